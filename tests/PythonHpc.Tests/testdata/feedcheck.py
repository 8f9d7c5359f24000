"""Parses feed files outside .NET and prints what was understood, as JSON.

RSS and Atom go through Debian's feedparser, the library behind many readers: a feed it flags as
"bozo" (not well-formed, wrong encoding, undefined entity) would break some reader somewhere.
Debian's feedparser (6.0) predates JSON Feed support, so JSON Feed files are read with Python's
json module and checked against the JSON Feed 1.1 required fields, and chapters/*.json against the
Podcasting 2.0 JSON chapters format (version, chapters with a numeric startTime and a title).
"""
import datetime
import json
import sys

import feedparser


def xml_entry(e):
    return {
        "id": e.get("id"),
        "title": e.get("title"),
        "link": e.get("link"),
        "published_parsed": list(e.published_parsed[:6]) if e.get("published_parsed") else None,
        "authors": [a.get("name") for a in e.get("authors", []) if a.get("name")],
        "tags": [t.get("term") for t in e.get("tags", [])],
        "summary": e.get("summary"),
        "content": [c.get("value") for c in e.get("content", [])],
        "content_types": [c.get("type") for c in e.get("content", [])],
        "media_content": [m.get("url") for m in e.get("media_content", [])],
        "media_thumbnail": [m.get("url") for m in e.get("media_thumbnail", [])],
    }


def xml_feed(path):
    d = feedparser.parse(path)
    return {
        "version": d.get("version"),
        "bozo": bool(d.get("bozo")),
        "bozo_exception": str(d.get("bozo_exception")) if d.get("bozo") else None,
        "title": d.feed.get("title"),
        "updated_parsed": list(d.feed.updated_parsed[:6]) if d.feed.get("updated_parsed") else None,
        "entries": [xml_entry(e) for e in d.entries],
    }


def utc(text):
    return list(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(datetime.timezone.utc).timetuple()[:6])


def json_feed(path):
    problems = []
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if d.get("version") != "https://jsonfeed.org/version/1.1":
            problems.append("version")
        if not isinstance(d.get("title"), str):
            problems.append("title")
        entries = []
        for item in d.get("items", []):
            if not isinstance(item.get("id"), str) or not item["id"]:
                problems.append("item id")
            if "content_html" not in item and "content_text" not in item:
                problems.append("item content")
            entries.append({
                "id": item.get("id"),
                "title": item.get("title"),
                "link": item.get("url"),
                "published_parsed": utc(item["date_published"]) if "date_published" in item else None,
                "authors": [a["name"] for a in item.get("authors", [])],
                "tags": item.get("tags", []),
                "summary": item.get("summary"),
                "content": [item["content_html"]] if "content_html" in item else [],
                "content_types": ["text/html"] if "content_html" in item else [],
            })
    except Exception as e:  # a broken file is what the test must see
        problems.append(repr(e))
        d, entries = {}, []
    return {
        "version": "json1" if not problems else None,
        "bozo": bool(problems),
        "bozo_exception": ", ".join(problems) or None,
        "title": d.get("title"),
        "updated_parsed": None,
        "entries": entries,
    }


def chapters_file(path):
    problems = []
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if not isinstance(d.get("version"), str):
            problems.append("version")
        chapters = d.get("chapters")
        if not isinstance(chapters, list) or not chapters:
            problems.append("chapters")
            chapters = []
        for c in chapters:
            if not isinstance(c.get("startTime"), (int, float)) or not isinstance(c.get("title"), str):
                problems.append("chapter fields")
        starts = [c.get("startTime") for c in chapters]
        entries = [{"id": None, "title": c.get("title"), "link": c.get("url"), "published_parsed": [], "authors": [], "tags": [],
                    "summary": None, "content": [], "content_types": [], "start": c.get("startTime")} for c in chapters]
    except Exception as e:
        problems.append(repr(e))
        d, entries = {}, []
    return {"version": "chapters" if not problems else None, "bozo": bool(problems),
            "bozo_exception": ", ".join(problems) or None, "title": d.get("title"), "updated_parsed": None, "entries": entries}


result = []
for path in sys.argv[1:]:
    if "/chapters/" in path:
        feed = chapters_file(path)
    else:
        feed = json_feed(path) if path.endswith(".json") else xml_feed(path)
    feed["file"] = path
    result.append(feed)
json.dump(result, sys.stdout, ensure_ascii=False)
