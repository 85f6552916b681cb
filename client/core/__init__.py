"""The core client: :class:`SpaceClient` (``client``), one chat's run (``run``), the
transport that owns every HTTP exchange (``transport``), the client's errors
(``errors``), its timeouts and retry policy (``timeouts``) and the check of the
caller's messages (``request``). Users import these names from ``qwen_space.client``."""
