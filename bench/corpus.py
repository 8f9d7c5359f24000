"""Generates a blog of N posts as real blogs write them, the same bytes for the same N and seed.

Front matter in the styles of Quarto, Hugo and Jekyll posts (quoted and unquoted dates, with and
without times and offsets; categories and tags as lists or strings; authors as strings, lists and
Quarto objects), bodies of a few kilobytes with headings, lists, code, tables, images, links, raw
HTML and the occasional Quarto callout. Every post is one both Hugo and pythonhpc accept.
"""
import os
import random

WORDS = ("python numpy dask mpi gpu kernel cluster node scheduler memory cache thread process array "
         "vector matrix solver mesh particle simulation climate genome parallel speedup profile "
         "benchmark compiler numba cython jit storage lustre slurm batch queue latency bandwidth "
         "throughput scaling strong weak notebook jupyter workflow container singularity conda "
         "environment package module library function loop branch data pipeline analysis result").split()
CATEGORIES = ["Python", "HPC", "GPU", "Dask", "MPI", "Numba", "Jupyter", "Machine Learning", "Data",
              "Containers", "Slurm", "Performance", "Tutorial", "Webinar", "Astronomy", "Climate",
              "Genomics", "Cloud", "Kubernetes", "Rust", "C++", "Fortran", "Visualization", "Storage",
              "Security", "Teaching", "Conferences", "Software", "Open Science", "Workflows"]
AUTHORS = ["Andrea Zonca", "Mary Thomas", "Bob Sinkovits", "Marty Kandes", "Mahidhar Tatineni"]


def sentence(rng, n=None):
    words = [rng.choice(WORDS) for _ in range(n or rng.randint(8, 20))]
    return " ".join(words).capitalize() + "."


def paragraph(rng):
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def body(rng, index):
    parts = [paragraph(rng), ""]
    for section in range(rng.randint(2, 4)):
        parts += [f"## {sentence(rng, 4)[:-1]}", "", paragraph(rng), ""]
        kind = rng.randrange(6)
        if kind == 0:
            parts += ["```python", "import numpy as np", f"x = np.arange({index * 10 + section})",
                      "def step(a):", "    return (a * 2).sum()", "print(step(x))", "```", ""]
        elif kind == 1:
            parts += [f"* [{rng.choice(WORDS)}](https://example.com/{rng.choice(WORDS)}) – {sentence(rng)}" for _ in range(4)] + [""]
        elif kind == 2:
            parts += [f"![{sentence(rng, 3)[:-1]}](images/figure-{index}-{section}.png)", ""]
        elif kind == 3:
            parts += ["| nodes | time (s) | speed-up |", "|---:|---:|---:|"]
            parts += [f"| {2 ** k} | {100 / 2 ** k:.1f} | {2 ** k * 0.9:.1f} |" for k in range(4)] + [""]
        elif kind == 4:
            parts += ['<figure><img src="plot.png" srcset="plot.png 1x, plot@2x.png 2x" alt="plot">',
                      f"<figcaption>{sentence(rng)}</figcaption></figure>", ""]
        else:
            parts += ["::: {.callout-note}", sentence(rng), ":::", ""]
        parts += [paragraph(rng), ""]
    parts += [f"See also [an earlier post](../{rng.randint(1, 9)}/) and the [docs](https://docs.example.org/{index}).", ""]
    return "\n".join(parts)


def front_matter(rng, index, year, month, day):
    title = sentence(rng, rng.randint(3, 8))[:-1].replace('"', "")
    hour, minute = rng.randrange(24), rng.randrange(60)
    date = rng.choice([
        f"{year}-{month:02d}-{day:02d}",
        f"'{year}-{month:02d}-{day:02d}'",
        f"{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:00",
        f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00+02:00",
    ])
    categories = rng.sample(CATEGORIES, rng.randint(1, 3))
    lines = ["---", f'title: "{title} {index}"', f"date: {date}"]
    if rng.random() < 0.5:
        lines.append("categories: [" + ", ".join(categories) + "]")
    else:
        lines += ["categories:"] + [f"  - {c}" for c in categories]
    lines.append("tags: [" + ", ".join(rng.sample(WORDS, 2)) + "]")
    if rng.random() < 0.7:
        lines.append(f"author: {rng.choice(AUTHORS)}")
    else:
        lines += ["author:"] + [f"  - {a}" for a in rng.sample(AUTHORS, 2)]
    lines.append(f'description: "{sentence(rng)}"')
    if rng.random() < 0.3:
        lines.append(f"image: images/cover-{index}.png")
    if rng.random() < 0.01:
        lines.append("draft: true")
    lines.append("---")
    return "\n".join(lines)


def generate(folder, count, seed=2025):
    rng = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    for index in range(count):
        year = 2006 + index * 19 // count
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        name = f"{year}-{month:02d}-{day:02d}-post-{index:05d}.md"
        with open(os.path.join(folder, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(front_matter(rng, index, year, month, day) + "\n\n" + body(rng, index))


if __name__ == "__main__":
    import sys
    generate(sys.argv[1], int(sys.argv[2]))
