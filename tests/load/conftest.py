from ..live.conftest import replica

__all__ = ["replica"]
