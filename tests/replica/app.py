"""A faithful replica of the Qwen/Qwen2.5-Max-Demo Space, with a fake model.

Layout and event wiring follow the real Space's ``/config``: the Qwen demo template
with ``model_chat(query, history, system)`` yielding ``('', history, system)`` where
the history holds the whole answer so far (DashScope's cumulative streaming), on
``textbox.submit`` (fn 0) and ``sumbit.click`` (fn 1), ``concurrency_limit=40``, and
``queue(api_open=False)``. Instead of DashScope a deterministic fake model answers.

The fake model is steered by directives in the query, so that tests reach the
failing and slow paths without changing the app's layout (which would move fn
indexes and trigger ids away from the real Space's):

* no directive: a canned answer that reads like an assistant's (a greeting, a pirate
  for a pirate system prompt, the name and liking told earlier in the history, a
  Russian greeting, a Russian story about a cat, or one generic answer), streamed
  as tokens of a word and its trailing space;
* ``!tokens=N``   answer with N tokens ``tok0 tok1 ...`` (default 8), also the answer
  to any prompt with another directive;
* ``!delay=S``    sleep S seconds before each token (default 0.01);
* ``!fail``       raise a ValueError after 2 tokens (hidden: ``show_error=False``);
* ``!fail0``      raise a ValueError before the first token;
* ``!grerror``    raise ``gr.Error("DashScope said no", title="Quota")`` after 2 tokens;
* ``!big=N``     answer with N times "x" in one yield;
* a prompt of "2000 words" gets a story of 2,145 tokens; one longer than CONTEXT_CHARS fails
  before the first token, as DashScope refuses it;
* ``!echo``       answer with a JSON description of what the model received;
* ``!id=NAME``    append ``yield NAME <unix time>`` to the file named by ``REPLICA_LOG``
  for every yield (the time the value went to Gradio), so tests see when the server
  stops generating (a cancelled job) and benchmarks measure the delay from the yield
  to the client's delta.

Run: ``python app.py PORT`` (starts uvicorn on 127.0.0.1; works on 4.44, 5.x, 6.x).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

GRADIO_MAJOR = int(gr.__version__.split(".")[0])
#: gr.Error takes a title from 5.2 on.
ERROR_TITLES = "title" in inspect.signature(gr.Error.__init__).parameters
default_system = "You are a helpful assistant."
DIRECTIVE = re.compile(r"!(tokens=|delay=|fail|grerror|big=|echo|id=)")
#: Roughly Qwen2.5-Max's 32k-token context, in characters.
CONTEXT_CHARS = 120_000


def _text(content: Any) -> str:
    """Text of a chatbot message content in any Gradio version's shape."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return "" if content is None else str(content)


def history_to_pairs(history: list[Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if history and isinstance(history[0], dict):
        user = None
        for message in history:
            if message.get("role") == "user":
                user = _text(message.get("content"))
            elif message.get("role") == "assistant" and user is not None:
                pairs.append((user, _text(message.get("content"))))
                user = None
        return pairs
    return [(_text(h[0]), _text(h[1])) for h in history]


def pairs_to_history(pairs: list[tuple[str, str]]) -> list[Any]:
    if GRADIO_MAJOR >= 6:
        out: list[Any] = []
        for user, bot in pairs:
            out.append({"role": "user", "content": [{"type": "text", "text": user}]})
            out.append({"role": "assistant", "content": [{"type": "text", "text": bot}]})
        return out
    return [[user, bot] for user, bot in pairs]


def cumulative(pieces: Iterator[str]) -> Iterator[str]:
    """DashScope's non-incremental streaming: every yield is the whole text so far."""
    text = ""
    for piece in pieces:
        text += piece
        yield text


# A prompt without directives gets an answer a person would recognise, because the
# bundled cassettes (the recording scenarios' prompts) are what a new user replays first.

HELLO = (
    "Hello! I am Qwen, a large language model created by Alibaba Cloud. Strictly speaking, I am a stand-in: "
    "this reply comes from a copy of the Qwen2.5-Max Space with a scripted model, so that qwen-space can be "
    "tried without the network. I still stream my answer word by word, just like the real Space. "
    "What would you like to talk about?"
)
PIRATE = (
    "Arr, I be Captain Qwen, the saltiest language model ever to sail the seven seas of the internet, "
    "and I'll answer any question ye throw at me, matey!"
)
RUSSIAN_GREETING = (
    "Привет! Всё отлично, спасибо, что спросили. Я готов помочь: могу ответить на вопрос, написать "
    "рассказ или объяснить что-нибудь сложное простыми словами. Как ваши дела?"
)
CAT_STORY = (
    "Кот Барсик жил в старом доме возле реки. Каждое утро он садился на подоконник и смотрел, как просыпается "
    "город: дворник метёт листья, булочник открывает лавку, голуби спорят из-за крошек. Однажды на "
    "подоконник сел воробей и спросил: «Почему ты никогда не выходишь во двор?» Барсик подумал и ответил: "
    "«Отсюда видно всё сразу». Однако на следующий день дверь оказалась открытой, и кот впервые спустился по "
    "лестнице. Он обнюхал каждую лужу, нашёл подругу, рыжую кошку из соседнего подъезда, и вернулся домой "
    "только к ужину, усталый и счастливый. Теперь Барсик смотрит в окно по утрам "
    "и гуляет во дворе по вечерам. 🐱"
)
GENERIC = (
    "That is a good question, and I wish I could answer it properly. I am a scripted stand-in for "
    "Qwen2.5-Max, so I give this same reply to every prompt I have no script for. The real Space would "
    "think it through; what I can show you is how its answers arrive: word by word, as the model writes them."
)


def lighthouse_story() -> str:
    """At least 2,000 words, built from sentences: a year at a lighthouse, then a storm."""
    months = [
        ("January", "the sea was the colour of slate, and sleet came in sideways off the water for days on end"),
        ("February", "the cold settled into the stones of the tower, and ice grew in feathers on the gallery rail"),
        ("March", "the gales came one after another, and the spray reached the lamp room windows twice"),
        ("April", "the wind softened at last, and thrift began to show pink in the cracks of the rock"),
        ("May", "the evenings grew long and gold, and the puffins came back to the cliffs below the point"),
        ("June", "the nights were so short that the lamp burned for barely six hours"),
        ("July", "a haze lay on the water most mornings, and the foghorn sounded more often than the bell"),
        ("August", "the sea was flat and warm, and children from the village rowed out to wave at the tower"),
        ("September", "the swallows gathered on the wires of the cottage, restless, talking about the south"),
        ("October", "the first real storm of autumn tore a slate from the cottage roof"),
        ("November", "the dark came early, and the lamp was lit before four in the afternoon"),
        ("December", "frost whitened the headland, and the stars over the point were sharp as needles"),
    ]
    ships = [
        "The supply boat could not land for three weeks, and Elias rationed his tea and read his old letters again",
        "A coal steamer passed close inshore, trailing smoke, and her captain sounded his whistle twice in greeting",
        "Two trawlers ran for shelter behind the point, their decks white with ice, and anchored there until dawn",
        "A small yacht with a red sail tacked past the rocks, and a girl on deck waved a yellow scarf at the tower",
        "The mail boat brought a parcel of seeds from his sister, and he planted beans beside the cottage wall",
        "A tall grain ship from Australia went by under full sail, the last of her kind he expected to see",
        "A fishing boat lost in the fog followed the sound of the horn until her skipper saw the light and turned",
        "A pleasure steamer full of holidaymakers came round the point, and a brass band played on her deck",
        "The lifeboat crew came out on exercise and stopped for tea in the cottage, filling it with boots and talk",
        "A cargo ship dragged her anchor in the bay, and Elias watched her all night through the glass",
        "The inspector from the Lighthouse Board arrived without warning and found nothing at all to fault",
        "The supply boat brought a small tree in a pot, and the boatman grinned and said it was from the village",
    ]
    chores = [
        "He polished the great lens with a soft cloth and spirit until every prism shone like water",
        "He trimmed the wicks, filled the reservoir with paraffin and wound the clockwork that turned the light",
        "He painted the iron rail of the gallery, one section each fine day, the way his father had taught him",
        "He climbed the hundred and twelve steps with a bucket and a brush and cleaned the salt from the glass",
    ]
    thoughts = [
        "Sometimes he thought of his wife, Mary, who had loved the view from the gallery more than he did",
        "He wondered, as he often did, how many people had been saved by the light and never knew it",
        "He remembered his father saying that a keeper's whole duty fits in three words: keep it lit",
        "He read by the stove in the evenings, slowly, a page at a time, because the books had to last",
        "He did not feel lonely, exactly, but he talked to the gulls more than a sensible man should",
        "He kept a list of every ship he saw in a notebook, with the date, the weather and a small drawing",
    ]
    evenings = [
        "At dusk he lit the lamp, wrote the time in the logbook in his small, careful hand, and watched the "
        "beam go sweeping out across the water",
        "When night came he sat in the lamp room with a mug of tea and listened to the clockwork ticking, "
        "steady as a heart",
        "Before he slept he climbed once more to check the flame, as he did every night, and every night "
        "it was burning",
    ]
    seasons = [
        "The winter birds kept to the lee of the rock, and the cottage smelled of wet wool and paraffin smoke",
        "Lambs cried on the farms along the headland, and the light came back into the mornings like an old friend",
        "Seals hauled out on the skerries below the tower to sleep in the sun, and Elias counted them each day",
        "The bracken on the headland turned to rust, and the geese went over in long, untidy skeins, calling",
    ]
    paragraphs = [
        "**The Keeper of Carrow Point**",
        "Elias Marr had kept the light at Carrow Point for thirty-one years, and in all that time it had never "
        "once gone dark. The tower stood on a shelf of black rock at the end of a long headland, white against "
        "the weather, with a red iron gallery near the top and a lamp room of old, thick glass. Below it the "
        "keeper's cottage crouched out of the wind: two rooms, a stove, a shelf of books and a barometer that "
        "his father had hung there before him. The supply boat came on the first Monday of every month if the "
        "sea allowed it, bringing paraffin, flour, tea, letters and a newspaper a week old. Elias did not mind "
        "the week. He said that news improved with keeping, like cheese, and that most of it was about people "
        "who had never watched the sun come up over open water.",
        "This is the story of his last year at the point, which began like any other.",
    ]
    for i, (month, weather) in enumerate(months):
        sentences = [
            f"In {month}, {weather}",
            seasons[(i + 1) % 12 // 3],
            ships[i],
            chores[i % 4],
            thoughts[i % 6],
            evenings[i % 3],
        ]
        paragraphs.append(". ".join(sentences) + ".")
    paragraphs += [
        "The letter came with the December boat. The Board thanked him for his long and faithful service and "
        "told him that the light at Carrow Point was to be made automatic in the spring. A machine would "
        "switch it on at dusk and off at dawn, and a man would come once a month to check it. There would be "
        "no need for a keeper. Elias read the letter twice, folded it into his notebook and went up to light "
        "the lamp, because it was nearly four o'clock and the dark does not wait for anyone's feelings.",
        "On the last night of the year the glass in the barometer fell faster than he had ever seen it fall. "
        "By midnight the wind was screaming round the tower, and the sea was breaking clean over the rock, "
        "so that the whole building shook with every wave. At two in the morning the clockwork jammed. The "
        "beam stopped turning and stood still, pointing uselessly out to sea, and a fixed light at Carrow "
        "Point meant nothing to a ship: it could be a house, a fire, anything at all. Elias did not stop to "
        "think. He took hold of the great brass frame and turned the lens by hand, counting under his "
        "breath, one turn every twenty seconds, exactly as the machine would have done it.",
        "He turned it for five hours. His arms burned, then ached, then went numb, and still he counted. "
        "Somewhere out in the dark, though he did not know it then, a coaster with nine men aboard had lost "
        "her bearings in the storm. Her captain saw the flash, counted the seconds between one flash and the "
        "next, knew it for Carrow Point and turned away from the rocks with half a mile to spare. When the "
        "grey light came up at last, the wind dropped, the sea went down, and Elias sat on the floor of the "
        "lamp room with his back against the wall and fell asleep where he sat.",
        "The captain of the coaster came to the point a week later with a bottle of whisky and a letter of "
        "thanks signed by his whole crew. He asked Elias how he had kept the light turning, and Elias said "
        "that he had only done what the clockwork should have done, with less grace and more swearing. The "
        "captain laughed, but his eyes were wet when he said goodbye.",
        "The machine came in the spring, as the Board had promised. It was neat and clever and did not need "
        "tea. Elias showed the engineers where the steps were worn and where the gallery rail needed paint, "
        "and on his last evening he climbed the hundred and twelve steps one more time, lit the lamp himself "
        "and wrote the time in the logbook for the last entry in his own hand. Then he walked down the "
        "headland to the village, where his sister had a room ready for him with a window that looked out to "
        "sea.",
        "He lived there for many years. Every night, before he went to bed, he stood at that window and "
        "waited for the flash from Carrow Point, and counted the seconds to the next one, and every night it "
        "came exactly on time. The light was kept, as it always had been. It simply did not need him to keep "
        "it any more, and he found, to his surprise, that he could live with that.",
    ]
    return "\n\n".join(paragraphs)


def canned_answer(query: str, pairs: list[tuple[str, str]], system: str) -> str:
    """What a real assistant might say, so that recordings read like a conversation."""
    asked = query.lower()
    if "pirate" in system.lower():
        return PIRATE
    if "my name" in asked:
        told = " ".join(user for user, _ in pairs)
        if not (name := re.search(r"[Mm]y name is (\w+)", told)):
            return "You have not told me your name yet. What should I call you?"
        likes = re.search(r"I like (\w+)", told)
        liking = f", and you like {likes.group(1)}" if likes else ""
        return f"Your name is {name.group(1)}{liking}. You told me so at the start of our conversation."
    if "кот" in asked:
        return CAT_STORY
    if "привет" in asked:
        return RUSSIAN_GREETING
    if "who are you" in asked or "hello" in asked:
        return HELLO
    return GENERIC


def fake_model(query: str, pairs: list[tuple[str, str]], system: str) -> tuple[Iterator[str], float, str | None]:
    tokens = int(m.group(1)) if (m := re.search(r"!tokens=(\d+)", query)) else 8
    delay = float(m.group(1)) if (m := re.search(r"!delay=([\d.]+)", query)) else 0.01
    if m := re.search(r"!big=(\d+)", query):
        return iter(["x" * int(m.group(1))]), delay, None
    if "!echo" in query:
        described = json.dumps({"query": query, "history": pairs, "system": system}, ensure_ascii=False)
        return cumulative(iter(described[i : i + 7] for i in range(0, len(described), 7))), delay, None
    if "2000 words" in query:
        words, delay = lighthouse_story().split(" "), 0.001
    elif DIRECTIVE.search(query):
        words = [f"tok{j}" for j in range(tokens)]
    else:
        words = canned_answer(query, pairs, system).split(" ")
    failure = next((f for f in ("!fail0", "!fail", "!grerror") if f in query), None)
    return cumulative(word + " " for word in words), delay, failure


def model_chat(query: str | None, history: list[Any] | None, system: str) -> Iterator[tuple[str, list[Any], str]]:
    query = query or ""
    pairs = history_to_pairs(history or [])
    answers, delay, failure = fake_model(query, pairs, system)
    if len(query) + sum(len(u) + len(a) for u, a in pairs) > CONTEXT_CHARS:
        # What DashScope answers past the model's context; the app raises on it.
        raise ValueError("Request id: fake, Status code: 400, error code: InvalidParameter, Range of input length")
    if failure == "!fail0":
        raise ValueError("Request id: fake, Status code: 400, error code: InvalidParameter")
    marker = re.search(r"!id=(\S+)", query) if os.environ.get("REPLICA_LOG") else None
    for i, answer in enumerate(answers):
        if failure in ("!fail", "!grerror") and i == 2:
            if failure == "!fail":
                raise ValueError("Request id: fake, Status code: 429, error code: Throttling")
            if ERROR_TITLES:
                raise gr.Error("DashScope said no", title="Quota")
            raise gr.Error("DashScope said no")
        time.sleep(delay)
        value = "", pairs_to_history([*pairs, (query, answer)]), system
        if not marker:
            yield value
            continue
        # Stamped as the value goes to Gradio, written once Gradio comes back for the
        # next one (or closes the generator): the file write is not part of the delay
        # a benchmark measures from this stamp.
        stamp = time.time()
        try:
            yield value
        finally:
            with open(os.environ["REPLICA_LOG"], "a", encoding="utf-8") as log:
                log.write(f"yield {marker.group(1)} {stamp:.6f}\n")


def clear_session() -> tuple[str, list[Any]]:
    return "", []


def modify_system_session(system: str) -> tuple[str, str, list[Any]]:
    if system is None or len(system) == 0:
        system = default_system
    return system, system, []


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("""<center><font size=8>Qwen2.5-Max (replica)</center>""")
        with gr.Row():
            with gr.Column(scale=3):
                system_input = gr.Textbox(value=default_system, lines=1, label="System")
            with gr.Column(scale=1):
                modify_system = gr.Button("🛠️ Set system prompt and clear history", scale=2)
            system_state = gr.Textbox(value=default_system, visible=False)
        chatbot = gr.Chatbot(label="Qwen2.5-Max")
        textbox = gr.Textbox(lines=1, label="Input")
        with gr.Row():
            clear_history = gr.Button("🧹 Clear history")
            sumbit = gr.Button("🚀 Send")

        textbox.submit(
            model_chat,
            inputs=[textbox, chatbot, system_state],
            outputs=[textbox, chatbot, system_input],
            concurrency_limit=40,
        )
        sumbit.click(
            model_chat,
            inputs=[textbox, chatbot, system_state],
            outputs=[textbox, chatbot, system_input],
            concurrency_limit=40,
        )
        clear_history.click(fn=clear_session, inputs=[], outputs=[textbox, chatbot])
        modify_system.click(
            fn=modify_system_session, inputs=[system_input], outputs=[system_state, system_input, chatbot]
        )
    demo.queue(api_open=False)
    return demo


def main() -> None:
    import uvicorn
    from fastapi import FastAPI

    port = int(sys.argv[1])
    # launch() defaults to show_error=False, as on the real Space; mount_gradio_app does not.
    demo = build()
    if "show_error" in inspect.signature(gr.mount_gradio_app).parameters:
        app = gr.mount_gradio_app(FastAPI(), demo, path="/", show_error=False)
    else:  # before 4.22 mount_gradio_app took no show_error: set what launch() would
        demo.show_error = False
        app = gr.mount_gradio_app(FastAPI(), demo, path="/")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
