"""LMentry answer scoring: does a free-form answer state the right thing?

LMentry (Efrat et al., 2022) scores free text with regular expressions per task. We
follow the same decision procedure, written from the task definitions:

1. certain 0 when the answer cannot be right (the answer word is absent, only the
   other option is named, a generated word breaks the constraint, ...);
2. certain 1 when the answer is stated bare ("chat", "The word 'chat'.", "chat chat");
3. otherwise 1 when one of the task's usual phrasings states it ("chat has more
   letters", "The answer is chat"); certain if the phrasing is the whole answer;
4. otherwise 0 (uncertain).

Only the score counts for accuracy; certainty is reported as a diagnostic.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable, Iterable

Verdict = tuple[int, int]  # (score, certainty), each 0 or 1
NOT_ALNUM = r"[^a-z0-9]"


def normalize(prediction: str, prompt: str = "") -> str:
    """Drop an echoed prompt, collapse whitespace, lowercase; '_' is not a word character."""
    if prompt:
        prediction = prediction.replace(prompt, "")
    return " ".join(prediction.split()).lower().replace("_", " ")


# ----- how an answer may be quoted --------------------------------------------------

def word(regex: str) -> str:
    return rf"(the word )?[\"'.,]*\b({regex})\b[\"'.,]*"


def letter(regex: str) -> str:
    return rf"(the letter )?[\"'.,]*\b({regex})\b[\"'.,]*"


def sentence(regex: str) -> str:
    # As upstream, the bare words "the sentence" also count as naming the sentence.
    return rf"((the sentence )?[\"'.,]*({regex})[\"'.,]*|the sentence)"


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
        "sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """English words of 0 <= n < 1000 in the British style ('seven hundred and twenty-three')."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " and " + number_words(rest))
    raise ValueError(f"number_words supports 0..999, got {n}")


def number(n: int) -> str:
    words = number_words(abs(n))
    return rf"(the number )?[\"'.,]*(\b{n}\b|{words}|{words.replace('-', ' ')})[\"'.,]*"


def shared_phrasings(target: str) -> list[str]:
    """Ways any answer gets stated, whatever the task."""
    return [
        rf"['\"]?{target}['\"]? is the answer",
        rf"the answer is ['\"]?{target}['\"]?",
        rf"the correct answer is ['\"]?{target}['\"]?",
        rf"answer ?[:-] ?['\"]?{target}['\"]?",
        rf"(obviously|certainly|definitely|of course|undoubtedly), ?(this is|it is|it's) ?(the )?"
        rf"(letter |number |word |sentence )?['\"]?{target}['\"]?",
    ]


# ----- the decision steps ------------------------------------------------------------

def has_alphanumeric(prediction: str) -> bool:
    return re.search(r"[a-z0-9]", prediction) is not None


def states(prediction: str, target: str, repetitions: bool = True) -> bool:
    """The whole answer is the target (optionally with a final period), or only repeats it."""
    if re.fullmatch(rf"({target})\.?", prediction):
        return True
    if repetitions:
        tokens = re.findall(r"\b[a-z0-9]+\b", prediction)
        return bool(tokens) and all(re.fullmatch(target, token) for token in tokens)
    return False


def phrased(prediction: str, phrasings: Iterable[str], prefixes: Iterable[str] = ("",),
            suffixes: Iterable[str] = ("",)) -> Verdict:
    """1 if some phrasing (with optional lead-in/trailer) states the answer; certain if it is all."""
    found = 0
    for prefix, suffix in itertools.product(prefixes, suffixes):
        for phrasing in phrasings:
            pattern = prefix + phrasing + suffix
            if re.fullmatch(rf"({pattern})\.?", prediction):
                return 1, 1
            if not found and re.search(pattern, prediction):
                found = 1
    return found, 0


def judged(prediction: str, target: str, phrasings: list[str], prefixes=("",), suffixes=("",),
           repetitions: bool = True) -> Verdict:
    if states(prediction, target, repetitions):
        return 1, 1
    return phrased(prediction, phrasings + shared_phrasings(target), prefixes, suffixes)


def mentions(prediction: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(text)}\b", prediction) is not None


def only_word(prediction: str) -> str | None:
    """The single alphabetic word of the prediction, if it has exactly one."""
    words = re.findall(r"\b[a-z]+\b", prediction)
    return words[0] if len(words) == 1 else None


def swapped(phrasing: str, a: str, b: str) -> str:
    """Exchange two placeholders, to say the same with the opposite relation."""
    a, b = "{" + a + "}", "{" + b + "}"
    return phrasing.replace(a, "\0").replace(b, a).replace("\0", b)


def fill(phrasings: list[str], **slots: str) -> list[str]:
    return [p.format(**slots) for p in phrasings]


# ----- task scorers: (normalized prediction, example metadata, normalized prompt) -> Verdict

def _comparison(relation: list[str], opposite: list[str], lead_ins: list[str]):
    """Two-option tasks: the answer is one of two words; say it, or say the other is the opposite."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer, distractor = str(meta["answer"]).lower(), str(meta["distractor"]).lower()
        if not mentions(prediction, answer) or only_word(prediction) == distractor:
            return 0, 1
        if re.fullmatch(word(re.escape(distractor)) + r"\.?", prediction):
            return 0, 1
        a, b = word(re.escape(answer)), word(re.escape(distractor))
        phrasings = fill(relation, a=a, b=b) + fill([swapped(p, "a", "b") for p in opposite], a=a, b=b)
        prefixes = [""] + fill(lead_ins, w1=word(re.escape(str(meta.get("word1", meta.get("n1", ""))).lower())),
                                w2=word(re.escape(str(meta.get("word2", meta.get("n2", ""))).lower())))
        return judged(prediction, a, phrasings, prefixes)
    return scorer


def _more_less(more: str, longer: str, less: str, shorter: str):
    relation = [f"{{a}} has {more} letters", f"{{a}} has {more} letters than {{b}}",
                f"{{a}} has \\w+ {more} letters?( than {{b}})?", f"the word (that|with) {more} letters is {{a}}",
                f"{{a}} is the word (that|with) {more} letters", f"{{a}} is {longer}( than {{b}})?",
                f"the {longer} word is {{a}}", f"{{a}} is the {longer} word"]
    opposite = [f"{{a}} has {less} letters", f"{{a}} has {less} letters than {{b}}",
                f"{{a}} is {shorter}( than {{b}})?", f"the {shorter} word is {{a}}"]
    return _comparison(relation, opposite, ["of the words {w1} and {w2}, ", "from the words {w1} and {w2}, "])


def _bigger_smaller(bigger: str, smaller: str, sign: str):
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer, distractor = int(meta["answer"]), int(meta["distractor"])
        tokens = set(re.findall(r"\b[a-z0-9]+\b", prediction))
        if len(tokens) == 1 and tokens != {str(answer)}:
            return 0, 1
        a, b = number(answer), number(distractor)
        relation = [f"{{a}} is {bigger}( than {{b}})?", f"{{a}} is the {bigger} number", f"the {bigger} (number )?is {{a}}",
                    f"{{a}} ?{sign} ?{{b}}"]
        opposite = [f"{{a}} is {smaller}( than {{b}})?", f"{{a}} is the {smaller} number"]
        phrasings = fill(relation, a=a, b=b) + fill([swapped(p, "a", "b") for p in opposite], a=a, b=b)
        n1, n2 = number(int(meta["n1"])), number(int(meta["n2"]))
        prefixes = ["", f"of the numbers {n1} and {n2}, ", f"between the numbers {n1} and {n2}, "]
        return judged(prediction, a, phrasings, prefixes)
    return scorer


def _first_alphabetically(prediction: str, meta: dict) -> Verdict:
    answer, distractor = meta["answer"].lower(), meta["distractor"].lower()
    if only_word(prediction) not in (None, answer):
        return 0, 1
    a, b = word(re.escape(answer)), word(re.escape(distractor))
    if states(prediction, rf"{a}( does)?"):
        return 1, 1
    phrasings = fill(["{a} (comes|is) first", "{b} (comes|is) second", "{b} (comes|is) after( {a})?",
                      "{a} (comes|is) before {b}"], a=a, b=b)
    prefixes = ["", "alphabetically, ", "in (an )?alphabetical order, ",
                f"of the words {word(meta['word1'])} and {word(meta['word2'])}, "]
    suffixes = ["", " alphabetically", " in (an )?alphabetical order", " in the dictionary"]
    return judged(prediction, a, phrasings, prefixes, suffixes)


def _sounds_like(relation: str):
    """Rhyming and homophones: which of two words relates to the query word."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer = meta["answer"].lower()
        if not mentions(prediction, answer) or only_word(prediction) == meta["distractor"].lower():
            return 0, 1
        a, q = word(re.escape(answer)), word(re.escape(meta["query"].lower()))
        forward = [f"{{q}} {relation} {{a}}", f"{{q}} and {{a}} {relation.split()[0].rstrip('s')}( alike| each other)?",
                   "{q} is a homophone of {a}", "{q} and {a} are homophones( of each other)?",
                   "the (homophone|rhyme|rhyming word) (of|for) {q} is {a}"]
        phrasings = fill(forward, q=q, a=a) + fill([swapped(p, "q", "a") for p in forward], q=q, a=a)
        return judged(prediction, a, phrasings)
    return scorer


def _association(most: str):
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer = meta["answer"].lower()
        if not mentions(prediction, answer):
            return 0, 1
        a, c = word(re.escape(answer)), word(re.escape(meta["category"].lower()))
        if states(prediction, a) or states(prediction, rf"{c} - {a}"):
            return 1, 1
        assoc = rf"(one )?{most}( commonly)? (associated|related)"
        phrasings = fill([f"the word {assoc} (to|with) {{c}} (is|would be) {{a}}",
                          f"the {assoc} word (to|with) {{c}} is {{a}}",
                          f"{{a}} (is|are) the (word )?{assoc} (to|with) {{c}}",
                          f"{{a}} relates to {{c}} the {most}"], a=a, c=c)
        return judged(prediction, a, phrasings, suffixes=("", r"[^a-z0-9]*(in|of|from|among) .*"))
    return scorer


def _position_letter(ordinal: str, verb: str):
    """first_letter / last_letter: name the letter at one end of a word."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer = meta["answer"].lower()
        if not mentions(prediction, answer):
            return 0, 1
        a, w = letter(re.escape(answer)), word(re.escape(meta["word"].lower()))
        phrasings = fill([f"the {ordinal} letter is {{a}}", f"the {ordinal} letter (of|in) {{w}} is {{a}}",
                          f"{{a}} is the {ordinal} letter (of|in) {{w}}", f"{{w}} {verb} with {{a}}",
                          f"the letter that {{w}} {verb} with is {{a}}", "{w}: {a}", f"{ordinal} letter: {{a}}"],
                         a=a, w=w)
        return judged(prediction, a, phrasings)
    return scorer


def _position_word(ordinal: str, verb: str):
    """first_word / last_word: name the word at one end of a sentence."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer = meta["answer"].lower()
        if not mentions(prediction, answer):
            return 0, 1
        a, s = word(re.escape(answer)), sentence(re.escape(meta["sentence"].lower()))
        phrasings = fill([f"the {ordinal} word is {{a}}", f"the {ordinal} word (of|in) {{s}} is {{a}}",
                          f"{{a}} is the {ordinal} word", f"{{s}} {verb} with {{a}}", f"{ordinal} word\\W+{{a}}"],
                         a=a, s=s)
        return judged(prediction, a, phrasings, prefixes=("", f"in {s} "), suffixes=("", f" (of|in) {s}"))
    return scorer


def _neighbour_word(after: str, before: str):
    """word_after / word_before: the word next to a query word in a sentence."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer, text = meta["answer"].lower(), meta["sentence"].lower()
        if not mentions(prediction, answer) or re.sub(r"[^\w ]+", "", prediction) == text:
            return 0, 1
        a, q, s = word(re.escape(answer)), word(re.escape(meta["query"].lower())), sentence(re.escape(text))
        near = r"(immediately |right )?"
        forward = [f"{{a}} comes {near}{after} {{q}}", f"{{a}} is the word that comes {near}{after} {{q}}",
                   f"the word that comes {near}{after} {{q}}( in {{s}})? is {{a}}"]
        backward = [p.replace(after, before) for p in forward]
        phrasings = fill(forward, a=a, q=q, s=s) + fill([swapped(p, "a", "q") for p in backward], a=a, q=q, s=s)
        return judged(prediction, a, phrasings, prefixes=("", f"in {s} "), suffixes=("", f" (of|in) {s}"))
    return scorer


def _yes_no(answer_of: Callable[[dict], str]):
    """all/any_words_from_category: a yes/no question about a list of words."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        answer = answer_of(meta)
        if re.fullmatch(("no" if answer == "yes" else "yes") + r"\.?", prediction):
            return 0, 1
        return judged(prediction, answer, [rf"^{answer}\b"])
    return scorer


def _word_at_end(first: bool):
    """starts_with_letter / ends_with_letter: write any word with a given first/last letter."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        ch = meta["letter"]
        words = re.findall(r"\b[a-z]+\b", prediction)
        if not any((w[0] if first else w[-1]) == ch for w in words):
            return 0, 1
        more = r"\w*" if ch in "ai" else r"\w+"
        w = word(rf"{ch}-?{more}" if first else rf"{more}{ch}")
        if states(prediction, w):
            return 1, 1
        starts, starting, end = ("(starts|begins)", "(starting|beginning)", "first") if first else \
            ("ends", "ending", "last")
        phrasings = fill([r"(a|one) possible( such)? (word|answer) is {w}", r"{w} is (a|one) possible( such)? (word|answer)",
                          f"{{w}} {starts} with {{l}}", f"{{w}} is (a|one) word (that {starts}|{starting}) with {{l}}",
                          f"a word {starting} with {{l}} is {{w}}", f"{{w}} is (a|one) word whose {end} letter is {{l}}",
                          "{l} is for {w}", "how about {w}", "may i suggest {w}"],
                         w=w, l=letter(ch))
        return judged(prediction, w, phrasings)
    return scorer


def _word_containing(prediction: str, meta: dict) -> Verdict:
    ch = meta["letter"]
    w = word(rf"\w*{ch}\w*" if ch in "ai" else rf"(\w+{ch}\w*)|(\w*{ch}\w+)|({ch}-\w+)")
    return judged(prediction, w, [rf"{w} (is a word (that|which) )?(contains|uses|has) {letter(ch)}"])


def _word_not_containing(prediction: str, meta: dict, prompt: str) -> Verdict:
    ch = meta["letter"]
    if re.fullmatch(re.escape(prompt).replace(re.escape(f'"{ch}"'), r'"\w"'), prediction):
        return 0, 1  # the answer repeats the question
    if not re.search(r"\W", prediction) and ch in prediction:
        return 0, 1
    others = string.ascii_lowercase.replace(ch, "")
    w = word(rf"\b[{others}]{{2,}}\b" + "".join(f"|{single}" for single in "ai" if single != ch))
    l_ = letter(ch)
    phrasings = [rf"{w} (is a word (that|which) )?(does not|doesn't) (contain|use|have) {l_}",
                 rf"a word (that|which) (does not|doesn't) (contain|use|have) {l_} is {w}",
                 rf"a word not (containing|using|having) {l_} is {w}", rf"{w} is a word without {l_}"]
    if states(prediction, w, repetitions=False):
        return 1, 1
    return phrased(prediction, phrasings)


def _sentence_with_word(first: bool):
    """starts_with_word / ends_with_word: a sentence (of 2+ words) beginning or ending with a word."""
    def scorer(prediction: str, meta: dict) -> Verdict:
        target = meta["word"].lower()
        if not mentions(prediction, target):
            return 0, 1
        w, other = word(re.escape(target)), r"(a|i|\w\w+)"
        body = rf"{NOT_ALNUM}*{w}{NOT_ALNUM}+{other}.*" if first else rf".*{other}{NOT_ALNUM}+{w}{NOT_ALNUM}*"
        if states(prediction, body, repetitions=False):
            return 1, 1
        edge, ordinal = ("starts", "first") if first else ("ends", "last|final")
        lead_ins = [r"the sentence( is)?", rf"(a|one) sentence that {edge} with {w}( is)?",
                    rf"(a|one) sentence {edge[:-1]}ing with {w}( is)?", rf"(a|one) sentence whose ({ordinal}) word is {w}( is)?"]
        trailers = [rf"{edge} with {w}", rf"is a sentence that {edge} with {w}",
                    rf"is a sentence whose ({ordinal}) word is {w}"] if first else [r"$"]
        return phrased(prediction, [body] + shared_phrasings(body), lead_ins, trailers)
    return scorer


def _sentence_containing(prediction: str, meta: dict) -> Verdict:
    w = re.escape(meta["word"].lower())
    return (1, 1) if re.search(sentence(rf"(.*\b{w}\b.+)|(.+\b{w}\b.*)"), prediction) else (0, 1)


def _sentence_not_containing(prediction: str, meta: dict) -> Verdict:
    target = meta["word"].lower()
    if mentions(prediction, target):
        return 0, 1
    words = re.findall(r"\b[a-z]+\b", prediction)
    if len(words) < 2:
        return 0, int(not words)  # one word is not a sentence, but that is arguable
    return 1, int(target not in prediction)  # uncertain when it hides inside a longer word


SCORERS: dict[str, Callable[..., Verdict]] = {
    "all_words_from_category": _yes_no(lambda m: "yes" if m["num_distractors"] == 0 else "no"),
    "any_words_from_category": _yes_no(lambda m: "yes" if m["num_words"] > m["num_distractors"] else "no"),
    "bigger_number": _bigger_smaller("(bigger|larger)", "smaller", ">"),
    "smaller_number": _bigger_smaller("smaller", "(bigger|larger)", "<"),
    "more_letters": _more_less("more", "longer", "(less|fewer)", "shorter"),
    "less_letters": _more_less("(less|fewer)", "shorter", "more", "longer"),
    "first_alphabetically": _first_alphabetically,
    "rhyming_word": _sounds_like("rhymes with"),
    "homophones": _sounds_like("sounds (like|similar to)"),
    "most_associated_word": _association("most"),
    "least_associated_word": _association("least"),
    "first_letter": _position_letter("first", "(starts|begins)"),
    "last_letter": _position_letter("last", "ends"),
    "first_word": _position_word("first", "(starts|begins)"),
    "last_word": _position_word("last", "ends"),
    "word_after": _neighbour_word("after", "before"),
    "word_before": _neighbour_word("before", "after"),
    "starts_with_letter": _word_at_end(first=True),
    "ends_with_letter": _word_at_end(first=False),
    "word_containing": _word_containing,
    "word_not_containing": _word_not_containing,
    "starts_with_word": _sentence_with_word(first=True),
    "ends_with_word": _sentence_with_word(first=False),
    "sentence_containing": _sentence_containing,
    "sentence_not_containing": _sentence_not_containing,
}


def base_task(file_stem: str) -> str:
    """The scorer of a data file: variants (e.g. more_letters_length_diff_1) share their task's."""
    for task in sorted(SCORERS, key=len, reverse=True):
        if file_stem == task or file_stem.startswith(task + "_"):
            return task
    raise KeyError(f"no LMentry scorer for '{file_stem}'")


def score_prediction(task: str, prediction: str, example: dict) -> Verdict:
    """Score one raw model answer to one LMentry example (`input` + `metadata`)."""
    prompt = normalize(example["input"])
    text = normalize(prediction, example["input"])
    if not has_alphanumeric(text):
        return 0, 1
    scorer = SCORERS[base_task(task)]
    if scorer is _word_not_containing:
        return scorer(text, example["metadata"], prompt)
    return scorer(text, example["metadata"])
