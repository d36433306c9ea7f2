"""Vocabulary, text formats and seeded task generators for recall-lm (see tools/train_recall_lm.py).

Every example is plain text over a 70-token character vocabulary; the answer positions are the characters the
model must produce (scored by exact match), everything else is context.

Tasks
  needle   filler sentences (lowercase words) with "needles" `K417; ` (an uppercase key letter immediately followed by
           its three-digit value) scattered at word starts, then a query `?K` whose answer is `417`.
           Keys are distinct within an example; the other needles are distractors.
  recall   the same format with every needle queried once, in random order, at the end (`?K417?B052...`): the only
           way to score is to match the key (the prototype's "strict multi-query associative recall").
  copy     `copy x3kq9 = x3kq9.`   (4-12 characters from a-z0-9)
  sort     `sort qdxa = adqx.`     (3-10 distinct letters, output in alphabetical order; the Pointer Networks task)
  repeat   a random 8-24 character string repeated to fill the sequence (induction-head warm-up).
Copy and sort problems are packed into a sequence separated by newlines.
"""
import random

UNK = '<unk>'
CHARS = '\n' + ' .,;?=' + '0123456789' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' + 'abcdefghijklmnopqrstuvwxyz'
VOCAB = [UNK] + list(CHARS)
TOKEN_ID = {token: index for index, token in enumerate(VOCAB)}
SEPARATOR = '\n'
KEYS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
NEEDLE_CHARS = 6   # `K417; `
QUERY_CHARS = 5    # `?K417`
ANSWER_CHARS = 3

SUBJECTS = ['the cat', 'a dog', 'my friend', 'the old man', 'she', 'he', 'they', 'the bird', 'a child', 'the farmer',
            'our teacher', 'the girl', 'a fox', 'the baker', 'we', 'the small boy', 'her sister', 'the king']
VERBS = ['saw', 'liked', 'found', 'made', 'took', 'wanted', 'walked to', 'looked at', 'painted', 'carried',
         'lost', 'cleaned', 'visited', 'sold', 'opened', 'built', 'moved', 'watched']
OBJECTS = ['the house', 'a tree', 'the river', 'some bread', 'the red ball', 'a small box', 'the green hill',
           'an apple', 'the door', 'a blue cup', 'the garden', 'the road', 'a warm coat', 'the market', 'a boat',
           'the long table', 'some water', 'the bridge', 'a letter', 'the field']
TAILS = ['', '', '', ' today', ' in the morning', ' at night', ' with care', ' again', ' slowly', ' after lunch',
         ' near the lake', ' before the rain', ' by the window', ' last week']


def encode(text):
    return [TOKEN_ID.get(char, 0) for char in text]


def decode(ids):
    return ''.join(VOCAB[i] if i else '?' for i in ids)


def sentence(rng):
    text = f'{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(TAILS)}'
    if rng.random() < 0.25:
        text += f', and {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}'
    return text + '. '


def filler(rng, length):
    """Exactly `length` characters of lowercase filler sentences (the last word may be cut)."""
    parts, total = [], 0
    while total < length:
        parts.append(sentence(rng))
        total += len(parts[-1])
    return ''.join(parts)[:length]


def insertion_points(text):
    """Word starts of `text`, plus its end: where a needle may go without splitting a word."""
    return [0] + [i for i in range(1, len(text)) if text[i - 1] == ' '] + [len(text)]


def value(rng):
    return f'{rng.randrange(1000):03d}'


def haystack(rng, length, n_needles, n_queries, depth=None):
    """A needle/recall example of exactly `length` characters.

    Returns (text, answer_spans, info): answer_spans are (start, end) character ranges to be predicted (the query
    values); info has the first query's key, value and the character index of its needle. With `depth` the first
    queried needle is placed at that fraction of the haystack (0 = first character, 1 = just before the queries).
    """
    stack_length = length - QUERY_CHARS * n_queries
    filler_length = stack_length - NEEDLE_CHARS * n_needles
    if filler_length < 0:
        raise ValueError(f'{n_needles} needles and {n_queries} queries do not fit in {length} characters')
    text = filler(rng, filler_length)
    points = insertion_points(text)
    keys = rng.sample(KEYS, n_needles)
    values = [value(rng) for _ in keys]
    if depth is None:
        where = [rng.choice(points) for _ in keys]
    else:
        target = depth * filler_length
        spot = min(points, key=lambda p: (abs(p - target), p))
        others = [p for p in points if p != spot]  # so nothing sits between the target and its depth
        where = [spot] + [rng.choice(others) for _ in keys[1:]]
    # Insert from the back so earlier insertion points stay valid; equal points keep key order.
    order = sorted(range(n_needles), key=lambda i: (where[i], i), reverse=True)
    for i in order:
        text = text[:where[i]] + f'{keys[i]}{values[i]}; ' + text[where[i]:]
    queried = [0] + rng.sample(range(1, n_needles), n_queries - 1) if depth is not None else \
        rng.sample(range(n_needles), n_queries)
    spans = []
    for i in queried:
        text += f'?{keys[i]}'
        spans.append((len(text), len(text) + ANSWER_CHARS))
        text += values[i]
    assert len(text) == length, (len(text), length)
    first = queried[0]
    info = {'key': keys[first], 'value': values[first], 'needle_index': text.index(f'{keys[first]}{values[first]};')}
    return text, spans, info


def copy_problem(rng):
    s = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(rng.randint(4, 12)))
    return f'copy {s} = ', f'{s}.'


def sort_problem(rng):
    s = rng.sample('abcdefghijklmnopqrstuvwxyz', rng.randint(3, 10))
    return f'sort {"".join(s)} = ', ''.join(sorted(s)) + '.'


def packed_problems(rng, length, sort_fraction=0.5):
    """Copy and sort problems separated by newlines, cut to exactly `length` characters."""
    text, spans = '', []
    while len(text) < length:
        prompt, answer = (sort_problem if rng.random() < sort_fraction else copy_problem)(rng)
        text += prompt
        spans.append((len(text), len(text) + len(answer)))
        text += answer + SEPARATOR
    return text[:length], [(a, min(b, length)) for a, b in spans if a < length]


def repeat_copy(rng, length):
    s = ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(rng.randint(8, 24)))
    return (s * (length // len(s) + 1))[:length], [(len(s), length)]


def training_example(rng, length, mix):
    """One training sequence of exactly `length` characters; `mix` maps task name to probability."""
    r, task = rng.random(), None
    for task, p in mix.items():
        r -= p
        if r < 0:
            break
    if task == 'repeat':
        return repeat_copy(rng, length)
    if task == 'copysort':
        return packed_problems(rng, length)
    if task == 'recall':
        # Every needle queried once. Needs several needles: with two, "copy either value" scores half the time
        # and training stalls there. At T=64: 3-5 needles and queries in 55 of the 64 characters.
        most = min(20, (length - 8) // (NEEDLE_CHARS + QUERY_CHARS))
        n = rng.randint(max(3, most // 2), most)
        text, spans, _ = haystack(rng, length, n, n)
        return text, spans
    if task == 'needle':
        # Sparse needles in long filler, 1-4 queries at the end (the evaluation format is the 1-query case).
        n = rng.randint(1, min(20, max(1, 2 * length // 64)))
        text, spans, _ = haystack(rng, length, n, rng.randint(1, min(n, 4)))
        return text, spans
    raise ValueError(task)


def needle_count(length):
    """Needles per evaluation context: one target plus distractors, one needle per 64 characters."""
    return max(1, length // 64)


def evaluation_set(seed, per_cell, lengths=(128, 256, 512, 1024), depths=(0.0, 0.25, 0.5, 0.75, 1.0),
                   n_copy=50, n_sort=50):
    rng = random.Random(seed)
    items = []
    for length in lengths:
        for depth in depths:
            for _ in range(per_cell):
                text, spans, info = haystack(rng, length, needle_count(length), 1, depth=depth)
                (start, end), = spans
                assert end == length
                items.append({'task': 'needle', 'length': length, 'depth': depth, 'prompt': text[:start],
                              'answer': text[start:], 'key': info['key'], 'needle_index': info['needle_index']})
    for task, problem, count in [('copy', copy_problem, n_copy), ('sort', sort_problem, n_sort)]:
        for _ in range(count):
            prompt, answer = problem(rng)
            items.append({'task': task, 'length': len(prompt) + len(answer), 'depth': None, 'prompt': prompt,
                          'answer': answer})
    return items
