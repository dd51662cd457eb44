#!/usr/bin/python3
"""html_bleach.py — the peer of html_bench: python3-bleach's clean() with
an allowlist like tributary's default policy, on the same NUL-separated
bodies, several passes. Prints the same line as html_bench (CPU time of
the cleaning loop alone)."""
import sys
import time

import bleach

TAGS = ["a", "abbr", "acronym", "address", "article", "aside", "audio", "b",
        "bdi", "bdo", "big", "blockquote", "br", "caption", "center", "cite",
        "code", "col", "colgroup", "data", "dd", "del", "details", "dfn",
        "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i", "img",
        "ins", "kbd", "li", "main", "mark", "ol", "p", "pre", "q", "rb",
        "rp", "rt", "rtc", "ruby", "s", "samp", "section", "small",
        "source", "strike", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "time", "tr", "track", "tt",
        "u", "ul", "var", "video", "wbr"]
GLOBAL = ["title", "lang", "dir"]
ATTRS = {"*": GLOBAL, "a": GLOBAL + ["href", "hreflang"],
         "img": GLOBAL + ["src", "srcset", "sizes", "alt", "width",
                          "height"],
         "blockquote": GLOBAL + ["cite"], "q": GLOBAL + ["cite"],
         "td": GLOBAL + ["colspan", "rowspan"],
         "th": GLOBAL + ["colspan", "rowspan", "scope"],
         "video": GLOBAL + ["src", "poster", "controls", "width", "height"],
         "audio": GLOBAL + ["src", "controls"],
         "source": GLOBAL + ["src", "srcset", "type", "media"],
         "time": GLOBAL + ["datetime"], "ol": GLOBAL + ["start"]}


def main():
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(sys.argv[1], "rb") as f:
        bodies = [b.decode("utf-8", "replace")
                  for b in f.read().split(b"\0") if b]
    size = sum(len(b.encode("utf-8")) for b in bodies)
    cleaner = bleach.sanitizer.Cleaner(
        tags=TAGS, attributes=ATTRS, protocols=["http", "https", "mailto"],
        strip=True, strip_comments=True)
    out = 0
    t0 = time.process_time()
    for _ in range(passes):
        for b in bodies:
            out += len(cleaner.clean(b))
    t = time.process_time() - t0
    print("bodies %d bytes %d passes %d cpu_s %.3f mb_s %.1f out_bytes %d"
          % (len(bodies), size, passes, t, size * passes / t / 1e6,
             out // passes))


if __name__ == "__main__":
    main()
