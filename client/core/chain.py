"""One chat through an app's event chain, step by step, as the browser runs it.

Each step reads its inputs from the chat's store of component values and writes its
outputs back: non-queued steps by ``run/predict``, queued ones through ``queue/join``
and the session's stream, all on the chat's one ``session_hash``. The reply is what
the steps did to the Chatbot beyond the history the client put there; the events of
each step's stream are passed on (its own ``Completed`` is not: the chat ends with one
``Completed`` after the last step, carrying what the Chatbot ends with). A failed step
ends the chat with its error (raised before any text, ``Failed`` after), never
``Completed``, and no later step runs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...protocol import (
    ChatCall,
    ChatContract,
    ChatEvent,
    Completed,
    Correction,
    Failed,
    FileReply,
    QwenSpaceError,
    ReasoningDelta,
    SpaceConfig,
    TextDelta,
    new_session_hash,
)
from ...protocol._chain import ChainStep
from ...protocol._chatbot import read_reply
from ...protocol._files import reply_files
from ...protocol._job import ChatJob
from ...protocol._join import JoinRequest
from ...protocol._predict import PredictCall
from ...protocol._reasoning import split_reply
from ...protocol._store import ComponentStore
from ...protocol._stream import chat_job
from .seam import Deadline

__all__ = ["ChainRunner", "ChatSession", "StepHost"]


class StepHost(Protocol):
    """What a chain needs of its chat's run: one session, and the requests of a step."""

    session_hash: str

    async def predict_step(self, body: bytes, deadline: Deadline, *, what: str) -> list[Any]: ...

    async def join_step(self, join: JoinRequest, deadline: Deadline) -> str: ...

    def stream_step(self, job: ChatJob, deadline: Deadline) -> AsyncGenerator[list[ChatEvent], None]: ...

    def step_done(self) -> None: ...


@dataclass(slots=True)
class ChatSession:
    """What a conversation keeps between turns: one ``session_hash`` (the server keeps its
    ``gr.State`` values under it) and the page's component values."""

    session_hash: str = field(default_factory=new_session_hash)
    store: ComponentStore | None = None
    #: Turns completed in this session.
    turns: int = 0


class ChainRunner:
    """Runs ``target.contract.steps`` for one :class:`ChatRun`."""

    def __init__(
        self,
        run: StepHost,
        config: SpaceConfig,
        contract: ChatContract,
        call: ChatCall,
        session: ChatSession | None,
        deadline: Deadline,
        *,
        root: str = "",
    ) -> None:
        assert contract.chatbot_id is not None  # a chain contract always has one
        self._run = run
        self._config = config
        self._contract = contract
        self._deadline = deadline
        self._chatbot = contract.chatbot_id
        self._format = contract.reply_format
        store = session.store if session is not None and session.store is not None else None
        values = dict(call.values)
        if store is None:
            store = ComponentStore(config.components)
        else:
            # A conversation's Chatbot holds the earlier turns as the app left them.
            values.pop(self._chatbot, None)
        for component_id, value in values.items():
            store.set(component_id, value)
        if session is not None:
            session.store = store
        self._store = store
        history = store.get(self._chatbot)
        self._skip = len(history) if isinstance(history, list) else 0
        self._shown = ""
        self._duration: float | None = None
        self._root = root
        # Outputs beside the Chatbot that may hold reply files, with their values before the chat.
        written = {i for step in contract.steps for i in step.outputs if i != self._chatbot}
        self._file_outputs = {i: store.get(i) for i in sorted(written)}

    async def run(self) -> AsyncGenerator[list[ChatEvent], None]:
        # The chat ends at its first failed step, with that step's error and no Completed.
        # The browser skips the failed step's ``.success`` followers (and Gradio 6 its
        # ``.then`` ones too); what any later step does cannot change the reply: it failed.
        for step in self._contract.steps:
            if step.queue:
                failed = False
                async for batch in self._queued(step):
                    failed = failed or any(isinstance(event, Failed) for event in batch)
                    yield batch
                if failed:
                    return
            else:
                events = await self._direct(step)
                if events:
                    yield events
                if any(isinstance(event, Failed) for event in events):
                    self._run.step_done()  # nothing of the chat runs on the Space: nothing to cancel
                    return
        value = self._store.get(self._chatbot)
        tail = value[self._skip :] if isinstance(value, list) else value
        text = read_reply(tail, self._format).text
        parts = split_reply(tail, self._format)
        self._run.step_done()
        events = [*self._advance(text), *self._reply_files()]
        yield [*events, Completed(text, self._duration, "\n\n".join(t.text for t in parts.thoughts))]

    def _reply_files(self) -> list[ChatEvent]:
        """The files the chain put in the Chatbot beyond the history, and in file outputs it changed."""
        changed = [i for i, before in self._file_outputs.items() if self._store.get(i) != before]
        ids = [self._chatbot, *changed]
        found = reply_files(
            [self._store.get(i) for i in ids],
            ["chatbot", *(c.type if (c := self._config.components.get(i)) else "" for i in changed)],
            chatbot_slot=0,
            since=self._skip,
            root=self._root,
            api_prefix=self._config.api_prefix,
        )
        return [FileReply(file) for file in found]

    async def _direct(self, step: ChainStep) -> list[ChatEvent]:
        call = PredictCall(step.fn_index, self._store.inputs(step), step.trigger_id)
        what = f"step {step.api_name or 'fn_index ' + str(step.fn_index)}"
        try:
            outputs = await self._run.predict_step(call.to_bytes(self._run.session_hash), self._deadline, what=what)
        except QwenSpaceError as error:
            # Before any text a failure is raised, as a refused join is; after, it ends the reply.
            if not self._shown:
                raise
            return [Failed(error.with_partial(self._shown))]
        self._store.apply(step, outputs)
        if self._chatbot not in step.outputs:
            return []
        value = self._store.get(self._chatbot)
        tail = value[self._skip :] if isinstance(value, list) else value
        return self._advance(read_reply(tail, self._format).text)

    async def _queued(self, step: ChainStep) -> AsyncGenerator[list[ChatEvent], None]:
        run = self._run
        join = JoinRequest(
            data=self._store.inputs(step),
            fn_index=step.fn_index,
            trigger_id=step.trigger_id,
            session_hash=run.session_hash,
        )
        event_id = await run.join_step(join, self._deadline)
        writes = self._chatbot in step.outputs
        job = chat_job(self._config, self._contract, event_id, step=step, skip=self._skip, shown=self._shown)
        async for batch in run.stream_step(job, self._deadline):
            kept = [e for e in batch if type(e) is not Completed and (writes or not _is_text(e))]
            if kept:
                yield kept
        if job.final_outputs is not None:
            self._store.apply(step, job.final_outputs)
            if job.server_duration is not None:
                self._duration = (self._duration or 0.0) + job.server_duration
        if writes:
            self._shown = job.text

    def _advance(self, text: str) -> list[ChatEvent]:
        shown, self._shown = self._shown, text
        if text.startswith(shown):
            return [TextDelta(text[len(shown) :])] if len(text) > len(shown) else []
        common = 0
        for a, b in zip(shown, text, strict=False):
            if a != b:
                break
            common += 1
        return [Correction(retract=len(shown) - common, text=text[common:], previous=shown)]


def _is_text(event: ChatEvent) -> bool:
    return isinstance(event, (TextDelta, Correction, ReasoningDelta))
