"""The fake Space behind Gradio's login route as gradio/routes.py writes it (4.44 to
6.31: a form POST to ``/login``, two cookies holding one token, one of them ``Secure``;
400 "Incorrect credentials."; a redirect when the app has no login); the ``login_space`` fixture
(tests/conftest.py) serves it."""

from collections.abc import Awaitable, Callable

from aiohttp import web

from .fake_space import FakeSpace

USER, PASSWORD = "ada", "correct horse battery staple"
TOKEN = "tok_6b1f0d2c9a8e7f35"
COOKIE_ID = "cookie-id-1234"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoginSpace(FakeSpace):
    """The fake Space behind Gradio's login: every route but /login wants the cookie."""

    logins: list[dict[str, str]]
    cookies_seen: list[str]
    auth: bool = True

    def app(self) -> web.Application:
        self.logins, self.cookies_seen = [], []
        app = super().app()
        app.router.add_post("/login", self._login)
        app.middlewares.append(self._check)
        return app

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.logins.append({key: str(value) for key, value in form.items()})
        if not self.auth:
            raise web.HTTPFound("/")
        if form.get("username") != USER or form.get("password") != PASSWORD:
            return web.json_response({"detail": "Incorrect credentials."}, status=400)
        response = web.json_response({"success": True})
        response.set_cookie(f"access-token-{COOKIE_ID}", TOKEN, httponly=True, samesite="none", secure=True)
        response.set_cookie(f"access-token-unsecure-{COOKIE_ID}", TOKEN, httponly=True)
        return response

    @web.middleware
    async def _check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.cookies_seen.append(request.headers.get("Cookie", ""))
        if (
            request.path != "/login"
            and self.auth
            and request.cookies.get(f"access-token-unsecure-{COOKIE_ID}") != TOKEN
        ):
            return web.json_response({"detail": "Not authenticated"}, status=401)
        return await handler(request)
