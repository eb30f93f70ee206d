"""LMentry answer scoring: the verdict the official scorers give, answer for answer.

Written from the official scorers (aviaefrat/lmentry @ 646ae90, `lmentry/scorers/`) so that
tuna's LMentry numbers can be compared with published ones. Every task runs the same cascade:

1. normalise: strip, lowercase, collapse runs of *spaces* (tabs and newlines stay), '_' -> ' ';
2. a task-specific rejection (certain 0), e.g. only the other option is named;
3. an "exact" answer (certain 1): the answer pattern, optionally with a final period, matched
   case-insensitively from the start; or every ASCII word of the answer matching it alone
   ("chat chat"). An answer with letters but no ASCII word passes this vacuously;
4. the task's phrasings (each prefix x pattern x suffix, lowercased as the official code
   lowercases them, so its `\\W` becomes `\\w`): the whole answer is one -> certain 1; one is
   found inside it -> uncertain 1; otherwise uncertain 0.

The official quirks are kept on purpose (README "LMentry, as the official scorers score it"
lists them); regular expressions are built from the metadata as the official code does.
Only the score counts for accuracy; certainty is the official diagnostic.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from num2words import num2words

ScoreCertainty = tuple[int, int]  # (score, certainty), each 0 or 1
NOT_ALNUM = "[^a-zA-Z0-9_]"
ASCII_WORD = r"\b[a-z\d]+\b"
LETTERS_WORD = r"\b[a-z]+\b"


def normalize(text: str) -> str:
    """Strip, lowercase and collapse runs of spaces (only spaces), as the official scorers do."""
    return _lowered(text.strip())


def _lowered(text: str) -> str:
    return re.sub(r" +", " ", text.lower())


# ----- how an answer may be quoted (the official "the word 'x'" wrappers) ----------------

def the_word(regex: str) -> str:
    return rf"(The word )?[\"'.,]*\b{regex}\b[\"'.,]*"


def the_letter(regex: str) -> str:
    return rf"(The letter )?[\"'.,]*\b{regex}\b[\"'.,]*"


def number(n: int) -> str:
    """Digits or num2words' English words ('seven hundred and twenty-three', hyphen or space)."""
    words = num2words(n)
    return rf"(\b{n}\b|{words}|{words.replace('-', ' ')})"


def the_number(n: int) -> str:
    return rf"(The number )?[\"'.,]*\b{number(n)}\b[\"'.,]*"


def the_sentence(regex: str) -> str:
    return rf"((The sentence )?[\"'.,]*{regex}[\"'.,]*|The sentence)"


def the_words(words: list[str]) -> str:
    """A listing of the words, any punctuation between, 'and' before the last; punctuation after it."""
    body = "".join(word + rf"{NOT_ALNUM}+" + (rf"(and{NOT_ALNUM}+)?" if i == len(words) - 2 else "")
                   for i, word in enumerate(words))
    return rf"(The words )?{NOT_ALNUM}*{body}{NOT_ALNUM}*"


def shared(target: str) -> list[str]:
    """The phrasings every official scorer accepts (only these: no 'Answer -', no quotes)."""
    return [f"{target} is the answer", f"The answer is {target}", f"The correct answer is {target}",
            f"Answer: {target}"]


def exchange(pattern: str, a: str, b: str) -> str:
    """Swap two sub-strings of a pattern's text."""
    return pattern.replace(a, "\0").replace(b, "\1").replace("\0", b).replace("\1", a)


def mirrored(patterns: list[str], a: str, b: str, old: str, new: str) -> list[str]:
    """'b is shorter' for 'a is longer': patterns whose *text* contains `old` (an answer word
    such as 'anymore' counts), with a and b swapped and every `old` in the text put as `new`."""
    return [exchange(p, a, b).replace(old, new) for p in patterns if old in p]


# ----- the two matching steps ---------------------------------------------------------

def either(patterns: list[str], tail: str = "") -> str:
    """One regex for 'any of the patterns', each completed by `tail` as upstream completes it."""
    return "(?:" + "|".join(f"(?:{p}{tail})" for p in patterns) + ")"


def exact(prediction: str, patterns: str | list[str], repetitions: bool = True) -> bool:
    """Step 3 for any of the patterns: the answer is one (any case, optional '.'), or each
    ASCII word of the answer is one and the same pattern."""
    patterns = [patterns] if isinstance(patterns, str) else patterns
    if not re.search(r"[^\W_]", prediction):  # no letter or digit of any script
        return False
    if re.match(either(patterns, r"\.?$"), prediction, flags=re.IGNORECASE):
        return True
    if not repetitions:
        return False
    words = re.findall(ASCII_WORD, prediction)
    if not all(re.match(either(patterns, "$"), w) for w in words):  # quick rejection
        return False
    return any(all(re.match(p + "$", w) for w in words) for p in patterns)


def phrased(prediction: str, patterns: list[str], prefixes=("",), suffixes=("",)) -> ScoreCertainty:
    """Step 4: certain 1 if a lowercased prefix + phrasing + suffix is the whole answer,
    uncertain 1 if one is inside it. Parts have no top-level '|' and no space at their
    joints, so the product of the three lists is one regex of three alternations."""
    regex = re.compile("".join(either([_lowered(x) for x in part]) for part in (prefixes, patterns, suffixes))
                       + r"\.?")
    if regex.fullmatch(prediction):
        return 1, 1
    return (1, 0) if regex.search(prediction) else (0, 0)


def absent(prediction: str, text: str) -> bool:
    return re.search(rf"\b{text}\b", prediction) is None


def one_other_word(prediction: str, answer: str) -> bool:
    """The answer has exactly one alphabetic word, and it is not the answer."""
    words = re.findall(LETTERS_WORD, prediction)
    return len(words) == 1 and words[0] != answer


# ----- task scorers: (normalised prediction, example) -> ScoreCertainty --------------------------

def _yes_no(answer_of: Callable[[dict], str], category_phrasings: bool):
    """all/any_words_from_category: 'yes'/'no' first; the opposite alone is certainly wrong."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        answer = answer_of(meta)
        if re.match(("no" if answer == "yes" else "yes") + r"\.?$", p):
            return 0, 1
        if exact(p, answer):
            return 1, 1
        patterns = [rf"^{answer}\b"]
        if category_phrasings:
            category = {"items of clothing": "(items of clothing|clothes|clothing)",
                        "furniture": "(furniture|pieces of furniture)",
                        "fruit": "(fruit|fruits)"}.get(meta["category"], meta["category"])
            every = "(all of these words|all of those words|all of the words|they all)"
            patterns += [f"{answer}, the list contains only {category}",
                         f"{answer}, {every}( (listed|in the list))? (represent|are types of|refer to types of) "
                         f"{category}"]
        return phrased(p, patterns + shared(answer))
    return scorer


def _pick_number(relation: str, opposite: str):
    """bigger/smaller_number: a single distinct word that is not the answer is certainly wrong."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        tokens = re.findall(ASCII_WORD, p)
        if len(set(tokens)) == 1 and tokens[0] != str(meta["answer"]):
            return 0, 1
        a, d = the_number(meta["answer"]), the_number(meta["distractor"])
        if exact(p, a):
            return 1, 1
        base = [f"{a} is {relation}", f"{a} is {relation} than {d}", f"{a} is the {relation} number",
                f"The {relation} number is {a}"]
        prefixes = [""] + [f"{lead} the numbers {meta['n1']} and {meta['n2']}, " for lead in ("Of", "From", "Between")]
        return phrased(p, base + mirrored(base, a, d, relation, opposite) + shared(a), prefixes)
    return scorer


def _count_letters(more: str, longer: str, fewer: str, shorter: str):
    """more/less_letters; a stated letter difference that is wrong is certainly wrong."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        gap = number(abs(len(meta["answer"]) - len(meta["distractor"])))
        a, d = the_word(meta["answer"]), the_word(meta["distractor"])

        def statements(x: str, y: str) -> list[str]:  # "x has more letters (than y)", ...
            return [f"{x} has {more} letters", f"{x} has {more} letters than {y}", f"{x} has {gap} {more} letter(s)?",
                    f"{x} has {gap} {more} letter(s)? than {y}", f"The word that has {more} letters is {x}",
                    f"{x} is the word that has {more} letters", f"{x} is {longer}", f"{x} is {longer} than {y}",
                    f"{x} is {longer} than {y} by {gap} letter(s)?", f"The {longer} word is {x}",
                    f"The word that is {longer} is {x}", f"{x} is the word that is {longer}"]

        wrong = [d, f"{d} is {longer} by {gap} letter(s)?"] + statements(d, a)
        if re.match(either([normalize(w) for w in wrong], r"\.?$"), p):
            return 0, 1
        count = r"(?P<count>\d+|one|two|three|four|five|six|seven|eight|nine|ten|zero|a single)"
        for said in (f"{a} has {count} {more} letter(s)?", f"{a} has {count} {more} letter(s)? than {d}",
                     f"{a} is {longer} by {count} letter(s)?", f"{a} is {longer} than {d} by {count} letter(s)?"):
            found = re.match(said, p)  # case-sensitive: "(The word )?" never matches here
            if found and not re.match(gap, found["count"]):
                return 0, 1
        if exact(p, a):
            return 1, 1
        base = statements(a, d)
        base += mirrored(base, a, d, more, fewer)
        base += mirrored(base, a, d, longer, shorter)
        w1, w2 = the_word(meta["word1"]), the_word(meta["word2"])
        prefixes = ["", f"Of the words {w1} and {w2}, ", f"From the words {w1} and {w2}, "]
        return phrased(p, base + shared(a), prefixes)
    return scorer


def _first_alphabetically(p: str, example: dict) -> ScoreCertainty:
    meta = example["metadata"]
    if one_other_word(p, meta["answer"]):
        return 0, 1
    a, d = the_word(meta["answer"]), the_word(meta["distractor"])
    if exact(p, [a, f"{a} does"]):
        return 1, 1
    comes = "(comes|is)"
    base = [f"{a} {comes} first", f"{d} {comes} second", f"{d} {comes} after", f"{a} {comes} before {d}",
            f"{d} {comes} after {a}"]
    prefixes = ["", "Alphabetically, ", "In an alphabetical order, ", "In alphabetical order, ",
                f"Of the words {the_word(meta['word1'])} and {the_word(meta['word2'])}, "]
    suffixes = ["", " alphabetically", " in an alphabetical order", " in alphabetical order", " in the dictionary"]
    return phrased(p, base + shared(a), prefixes, suffixes)


def _related_word(statements: Callable[[str, str, str], list[str]], extra: Callable[[str, str, str], list[str]],
                  rejected: Callable[[str, str], bool]):
    """rhyming_word/homophones: only whole-answer statements count (else uncertain 0)."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        if rejected(p, meta["answer"]):
            return 0, 1
        a, q, d = the_word(meta["answer"]), the_word(meta["query"]), the_word(meta["distractor"])
        forward = statements(a, q, d)
        patterns = [a] + forward + [exchange(s, a, q) for s in forward] + extra(a, q, d)
        return (1, 1) if exact(p, patterns) else (0, 0)
    return scorer


def _rhymes(a: str, q: str, d: str) -> list[str]:
    the, while_, doesnt = "(a|the)", "(while|but|and)", "(does not|doesn't)"
    return [f"{q} rhymes with {a}( and not with {d})?", f"{q} is {the} rhyme of {a}( and not of {d})?",
            f"{q} and {a} rhyme", f"{q} and {a} are rhymes", f"{q} and {a} are words that rhyme",
            f"{the} rhyme of {q} is {a}( and not {d})?", f"{the} word rhyming with {q} is {a}",
            f"{the} word that rhymes with {q} is {a}",
            f"{q} and {a}( both)? rhyme( with each other)?, {while_} {d} {doesnt} rhyme with either( word)?"]


def _rhymes_denied(a: str, q: str, d: str) -> list[str]:
    doesnt = "(does not|doesn't)"
    return [rf"{d} {doesnt} rhyme with {q}(\s+{a} (rhymes|does rhyme) with {q})?",
            rf"{q} {doesnt} rhyme with {d}(\s+{q} (rhymes|does rhyme) with {a})?",
            rf"{a} rhymes with {q}\s+{d} {doesnt} rhyme with {q}"]


def _sounds(a: str, q: str, d: str) -> list[str]:
    but, like = r"(\.,)? (but|and)", "(like|similar to)"
    return [f"{q} sounds {like} {a}", f"{q} sounds {like} {a}{but} not {like} {d}",
            f"{q} sounds {like} {a}{but} {d} does not", f"{q} and {a} sound alike", f"{q} sounds more {like} {a}",
            f"{q} sounds more {like} {a} than( like)? {d}( does)?", f"{q} sounds most {like} {a}",
            f"{q} is a homophone of {a}", f"{q} and {a} are homophones( of each other)?",
            f"The homophone of {q} is {a}"]


def _associated(degree: str, category_dash: bool):
    """most/least_associated_word: the word among the options that relates to a category."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        if absent(p, meta["answer"]):
            return 0, 1
        a, c = the_word(meta["answer"]), the_word(meta["category"])
        if exact(p, a) or (category_dash and exact(p, f"{c} - {a}")):
            return 1, 1
        i = meta["answer_index"]
        options = meta["distractors"][:i] + [meta["answer"]] + meta["distractors"][i:]
        given, kind = "(above|given|listed|following)", "(words|options)"
        listing = f"(of|from) ({the_words(options)}|the {kind} {given}|the {given} {kind})"
        to, rel, is_ = "(to|with)", f"{degree}( commonly)? (associated|related)", "(is|are)"
        base = [f"The word {rel} {to} {c} is {a}", f"The word {rel} {to} {c} {listing} is {a}",
                f"{c} {is_} {rel} {to} {a}", f"{a} {is_} the {rel} {to} {c}", f"{a} {is_} the word {rel} {to} {c}",
                f"The word that relates to {c} the {degree} is {a}", f"{a} relates to {c} the {degree}"]
        patterns = base + [exchange(s, a, c) for s in base] + shared(a)
        return phrased(p, patterns, ["", f"{listing}{NOT_ALNUM}*"], ["", f"{NOT_ALNUM}*{listing}"])
    return scorer


def _letter_of_word(ordinal: str, verb: str, adjective: str):
    """first/last_letter: name the letter at one end of a word."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        if absent(p, meta["answer"]):
            return 0, 1
        a, w, of = the_letter(meta["answer"]), the_word(meta["word"]), "(of|in)"
        if exact(p, a):
            return 1, 1
        base = [f"The {ordinal} letter is {a}", f"The {ordinal} letter {of} {w} is {a}",
                f"{a} is the {ordinal} letter {of} {w}", f"{w} {verb} with {a}",
                f"The letter that {w} {verb} with is {a}",
                f"{a} is the {adjective} letter {of} {w}", f"{w}: {a}", f"{ordinal.capitalize()} letter: {a}"]
        return phrased(p, base + shared(a))
    return scorer


def _word_of_sentence(ordinal: str, verb: str):
    """first/last_word; both accept 'first word' + a word character + the answer (official `\\W`, lowercased)."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        answer = meta["answer"].lower()
        if absent(p, answer):
            return 0, 1
        a, s = the_word(answer), the_sentence(meta["sentence"].lower())
        if exact(p, a):
            return 1, 1
        base = [f"The {ordinal} word is {a}", f"The {ordinal} word (of|in) {s} is {a}", f"{a} is the {ordinal} word",
                f"{s} {verb} with {a}", rf"First word\W+{a}"]
        return phrased(p, base + shared(a), ["", f"In {s} "], ["", f" (of|in) {s}"])
    return scorer


def _neighbour(statements: Callable[[str, str, str], list[str]], near: str, far: str):
    """word_after/before; the official succeeds/precedes mirror never applies (it tests the other verb)."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        meta = example["metadata"]
        answer, sentence = meta["answer"].lower(), meta["sentence"].lower()
        if absent(p, answer) or re.sub(r"[^\w ]+", "", p) == sentence:
            return 0, 1
        a, q, s = the_word(answer), the_word(meta["query"].lower()), the_sentence(sentence)
        if exact(p, a):
            return 1, 1
        base = statements(a, q, s)
        near_, far_ = f"(immediately |right )?{near}", f"(immediately |right )?{far}"
        return phrased(p, base + mirrored(base, a, q, near_, far_) + shared(a), ["", f"In {s} "], ["", f" (of|in) {s}"])
    return scorer


def _after(a: str, q: str, s: str) -> list[str]:
    after, succeeds, follows = "(immediately |right )?after", "(immediately )?succeeds", "(immediately )?follows"
    return [f"{a} comes {after} {q}", f"{a} is the word that comes {after} {q}", f"{a} {succeeds} {q}",
            f"{a} is the word that {succeeds} {q}", f"{a} {follows} {q}", f"The word that comes {after} {q} is {a}",
            f"The word that comes {after} {q} in {s} is {a}", f"The word that {succeeds} {q} is {a}",
            f"The word that {follows} {q} is {a}", f"{q} is succeeded by {a}", f"{q} is followed by {a}"]


def _before(a: str, q: str, s: str) -> list[str]:
    before, precedes, follows = "(immediately |right )?before", "(immediately )?precedes", "(immediately )?follows"
    return [f"{a} comes {before} {q}", f"{a} is the word that comes {before} {q}", f"{a} {precedes} {q}",
            f"{a} is the word that {precedes} {q}", f"{a} is followed by {q}",
            f"The word that comes {before} {q} is {a}",
            f"The word that comes {before} {q} in {s} is {a}", f"The word that {precedes} {q} is {a}",
            f"The word that {follows} {a} is {q}", f"{a} is succeeded by {q}", f"{q} {follows} {a}"]


def _word_with_letter(first: bool):
    """starts/ends_with_letter: write a word; no alphabetic word at that end is certainly wrong."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        letter = example["metadata"]["letter"]
        if all((w[0] if first else w[-1]) != letter for w in re.findall(LETTERS_WORD, p)):
            return 0, 1
        rest = r"\w*" if letter in "ai" else r"\w+"
        w = the_word(rf"{letter}-?{rest}" if first else rf"{rest}{letter}")
        if exact(p, w):
            return 1, 1
        l_, a, possible = the_letter(letter), "(a|one)", r"possible( such)? (word|answer)"
        base = [f"{a} {possible} is {w}", f"{w} is {a} {possible}"]
        if first:
            base += [f"{w} (starts|begins) with {l_}", f"{w} is {a} word that (starts|begins) with {l_}",
                     f"{w} is {a} word (starting|beginning) with {l_}", f"A word starting with {l_} is {w}",
                     f"{w} is {a} word whose first letter is {l_}", f"{l_} is for {w}", f"How about {w}"]
        else:  # the official list misses a comma: "... last letter is <l>How about <w>" is one pattern
            base += [f"{w} ends with {l_}", f"{w} is {a} word that ends with {l_}", f"{w} is {a} word ending with {l_}",
                     f"A word ending with {l_} is {w}", f"{w} is {a} word whose last letter is {l_}How about {w}"]
        return phrased(p, base + [f"May I suggest {w}"] + shared(w))
    return scorer


def _word_containing(p: str, example: dict) -> ScoreCertainty:
    letter = example["metadata"]["letter"]
    w = the_word(rf"\w*{letter}\w*" if letter in "ai" else rf"((\w+{letter}\w*)|(\w*{letter}\w+)|({letter}-\w+))")
    if exact(p, w):
        return 1, 1
    return phrased(p, [rf"{w} (is a word (that|which) )?(contains|uses|has) {the_letter(letter)}"] + shared(w))


def _word_not_containing(p: str, example: dict) -> ScoreCertainty:
    letter = example["metadata"]["letter"]
    question = normalize(example["input"]).replace(f'"{letter}"', r'"\w"')  # used as a regex, as upstream
    if re.match(question + "$", p) or (not re.search(r"\W", p) and letter in p):
        return 0, 1  # the question again (any letter), or one word holding the letter
    others = string.ascii_lowercase.replace(letter, "")
    w = the_word(f"((\\b[{others}]{{2,}}\\b)" + "".join(f"|({x})" for x in "ai" if x != letter) + ")")
    if exact(p, w, repetitions=False):
        return 1, 1
    that, doesnt, l_ = "(that|which)", "((does not)|(doesn't))", the_letter(letter)
    return phrased(p, [f"{w} (is a word {that} )?{doesnt} (contain|use|have) {l_}",
                       f"A word {that} {doesnt} (contain|use|have) {l_} is {w}",
                       f"A word not (containing|using|having) {l_} is {w}", f"{w} is a word without {l_}"])


def _sentence_with_word(first: bool):
    """starts/ends_with_word: a sentence of 2+ words; phrasings need both a lead-in and a trailer."""
    def scorer(p: str, example: dict) -> ScoreCertainty:
        target = example["metadata"]["word"].lower()
        if absent(p, target):
            return 0, 1
        w, valid, x = the_word(target), r"(a|i|\w\w+)", NOT_ALNUM
        body = f"{x}*{w}{x}+{valid}.*" if first else f".*{valid}{x}+{w}{x}*"
        if exact(p, body):
            return 1, 1
        edge, ordinal = ("starts", "first") if first else ("ends", "(last|final)")
        lead_ins = ["The sentence( is)?",
                    f"(a|one) sentence that {edge} with {w}" + ("( is)?" if first else " ( is)?"),
                    f"(a|one) sentence {edge[:-1]}ing with {w}( is)?",
                    f"(a|one) sentence whose {ordinal} word is {w}( is)?"]
        trailers = ([f"starts with {w}", f"is a sentence that starts with {w}", f"is a sentence starting with {w}",
                     f"is a sentence whose first word is {w}"] if first else ["$"])
        return phrased(p, [body] + shared(body), lead_ins, trailers)
    return scorer


def _sentence_containing(p: str, example: dict) -> ScoreCertainty:
    """Any line holding the word and one more character; the pattern is not lowercased, so its
    alternative 'The sentence' never matches a (lowercased) answer."""
    w = example["metadata"]["word"].lower()
    return (1, 1) if re.search(the_sentence(rf"((.*\b{w}\b.+)|(.+\b{w}\b.*))"), p) else (0, 1)


def _sentence_not_containing(p: str, example: dict) -> ScoreCertainty:
    w = example["metadata"]["word"].lower()
    if not absent(p, w):
        return 0, 1
    words = re.findall(LETTERS_WORD, p)
    if len(words) < 2:
        return 0, int(not words)  # one word is not a sentence, but that is arguable
    return 1, int(w not in p)  # uncertain when it hides inside a longer word


SCORERS: dict[str, Callable[[str, dict], ScoreCertainty]] = {
    "all_words_from_category": _yes_no(lambda m: "yes" if m["num_distractors"] == 0 else "no", True),
    "any_words_from_category": _yes_no(lambda m: "yes" if m["num_words"] > m["num_distractors"] else "no", False),
    "bigger_number": _pick_number("(bigger|larger)", "smaller"),
    "smaller_number": _pick_number("smaller", "(bigger|larger)"),
    "more_letters": _count_letters("more", "longer", "(less|fewer)", "shorter"),
    "less_letters": _count_letters("(less|fewer)", "shorter", "more", "longer"),
    "first_alphabetically": _first_alphabetically,
    "rhyming_word": _related_word(_rhymes, _rhymes_denied, one_other_word),
    "homophones": _related_word(_sounds, lambda a, q, d: [], absent),
    "most_associated_word": _associated("most", category_dash=True),
    "least_associated_word": _associated("least", category_dash=False),
    "first_letter": _letter_of_word("first", "(starts|begins)", "starting"),
    "last_letter": _letter_of_word("last", "ends", "final"),
    "first_word": _word_of_sentence("first", "begins"),
    "last_word": _word_of_sentence("last", "ends"),
    "word_after": _neighbour(_after, "after", "before"),
    "word_before": _neighbour(_before, "before", "after"),
    "starts_with_letter": _word_with_letter(first=True),
    "ends_with_letter": _word_with_letter(first=False),
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


def score_prediction(task: str, prediction: str, example: dict) -> ScoreCertainty:
    """Score one raw model answer to one LMentry example (`input` + `metadata`)."""
    return SCORERS[base_task(task)](normalize(prediction).replace("_", " "), example)
