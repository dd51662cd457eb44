#!/usr/bin/python3
"""gen.py — deterministic feed corpus for the benchmarks.

    bench/gen.py [--seed N] [--feeds N] [--items M] [--large-mb MB] OUTDIR

Writes OUTDIR/feeds/fNNNNN.xml (N feeds of M items each, a mix of RSS 2.0,
Atom 1.0 and RSS 1.0), OUTDIR/large.xml (one RSS 2.0 feed of at least
--large-mb megabytes) and OUTDIR/manifest.json (file names, sizes, item
counts). The same seed gives the same bytes.

The text is news-like UTF-8: accented names, typographic quotes, dashes,
emoji, HTML markup in descriptions, content:encoded in some feeds. About
one item in twelve is a wire story carried by several feeds under the same
link (sometimes with tracking parameters), for cross-feed deduplication.
"""

import argparse
import json
import os
import random
import sys
import time

# Sentences written for this generator; {place}, {person}, {org}, {num}
# and {pct} are filled in from the tables below.
SENTENCES = [
    "Foreign ministers met in {place} on Tuesday to discuss closer "
    "cooperation on cyber defence and the protection of undersea cables.",
    "“We will not be divided,” {person} told reporters after the two-day "
    "meeting, adding that the talks had been “frank but constructive”.",
    "The agreement, which still needs the approval of {num} national "
    "parliaments, sets out a timetable for joint exercises next spring.",
    "Officials in {place} said the new measures would take effect within "
    "weeks — earlier than most analysts had expected.",
    "Energy prices fell by {pct} % over the quarter, the {org} said in its "
    "monthly report, citing mild weather and full storage sites.",
    "Critics argue the plan does too little for rural households, where "
    "heating costs have risen faster than wages since 2021.",
    "The city council of {place} voted {num} to 12 to extend the tram line "
    "to the airport, ending a debate that lasted almost a decade.",
    "Researchers at the {org} published data showing that the glacier lost "
    "{pct} % of its volume between 2000 and 2023.",
    "Fans lined the streets of {place} to welcome the team home after the "
    "final — “an evening nobody here will forget”, one supporter said.",
    "The start-up, founded in {place} three years ago, says its battery "
    "recycling process recovers {pct} % of the lithium.",
    "Négociations difficiles: the delegation from {place} left the summit "
    "early, citing “irreconcilable differences” over fishing quotas.",
    "Inflation in the euro area eased to {pct} % in November, according to "
    "a flash estimate published on Friday morning.",
    "{person} – who has led the {org} since 2019 – announced she would not "
    "seek a third term.",
    "The festival in {place} sold out within minutes 🎉, and organisers are "
    "already planning a second weekend.",
    "Storm warnings remain in place along the coast ⚡; ferries between "
    "the islands have been cancelled until further notice.",
    "Shares in the carmaker rose {pct} % after it reported better-than-"
    "expected sales of its electric models in Asia 📈.",
    "The museum’s new wing, designed by an architect from {place}, opens "
    "to the public on 14 March with an exhibition of Baltic amber.",
    "Farmers blocked roads near {place} for a third day, protesting against "
    "import rules they say favour large producers.",
    "Doctors at the {org} warn that flu cases are rising earlier than usual "
    "this winter and urge older people to get vaccinated.",
    "The court in {place} ruled that the data-sharing agreement breached "
    "privacy law, a decision the ministry said it would appeal.",
    "Over {num} volunteers helped clear debris after the floods 🌍, "
    "working through the night in freezing temperatures.",
    "“It’s a small step, but it’s the right one,” {person} said of the "
    "compromise reached shortly after midnight.",
    "Rail operators in {place} plan to add {num} night trains by 2026, "
    "linking the capital with cities across the continent.",
    "The report found that one in five bridges inspected by the {org} "
    "needs urgent repair…",
]

PLACES = [
    "Brussels", "Zürich", "São Paulo", "Kraków", "Reykjavík", "Malmö",
    "Besançon", "Málaga", "Poznań", "Tromsø", "Düsseldorf", "Córdoba",
    "Ljubljana", "Thessaloníki", "Montréal", "Nîmes", "Gdańsk", "Århus",
    "Köln", "Québec", "Tallinn", "Vilnius", "Lisbon", "Istanbul",
]
PEOPLE = [
    "Anna Müller", "José Álvarez", "Zoë Lefèvre", "Søren Nørgaard",
    "Łukasz Wójcik", "Chloé Dubois", "Jürgen Schäfer", "Inês Conceição",
    "Björn Åström", "Ayşe Yılmaz", "Đorđe Petrović", "Mark Rutte",
    "Mária Kovács", "François Hébert", "Niamh O’Connor",
]
ORGS = [
    "Statistics Office", "European Environment Agency", "Central Bank",
    "Institute for Climate Research", "national rail operator",
    "Health Authority", "Energy Regulator", "University Hospital",
    "Road Safety Council", "Maritime Agency",
]
SECTIONS = [
    "world", "europe", "politics", "economy", "climate", "science", "tech",
    "culture", "sport", "health", "travel", "opinion",
]
TITLE_TEMPLATES = [
    "Ministers in {place} agree on cyber defence plan",
    "{person}: “We will not be divided”",
    "Energy prices fall {pct} % as storage sites fill up",
    "Tram line to {place} airport approved after decade of debate",
    "Glacier lost {pct} % of its volume, {org} says",
    "Team welcomed home in {place} after historic final 🎉",
    "Start-up in {place} recycles {pct} % of battery lithium",
    "Inflation eases to {pct} % in November",
    "{person} will not seek a third term at the {org}",
    "Storm warnings along the coast — ferries cancelled ⚡",
    "Court in {place} strikes down data-sharing deal",
    "Night trains: {num} new routes planned by 2026",
    "Flu season starts early, {org} warns",
    "Farmers block roads near {place} for third day",
    "Museum’s new wing opens with Baltic amber show",
]
HTML_WRAPS = [
    "<p>{}</p>",
    "<p><strong>{}</strong></p>",
    "<p>{} <a href=\"https://example.org/more\">Read more</a></p>",
    "<p><em>{}</em></p>",
    "<blockquote><p>{}</p></blockquote>",
    "<ul><li>{}</li></ul>",
]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
RFC822_ZONES = ["+0000", "GMT", "-0500", "+0100", "EST", "+0200", "PDT"]
RFC3339_ZONES = ["Z", "+01:00", "-05:00", "+00:00", "+09:00"]


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def attr_escape(s):
    return xml_escape(s).replace('"', "&quot;")


class Text:
    """Pools of filled-in sentences and titles, built once per seed."""

    def __init__(self, rnd):
        self.rnd = rnd

        def fill(t):
            return t.format(place=rnd.choice(PLACES), person=rnd.choice(PEOPLE),
                            org=rnd.choice(ORGS), num=rnd.randint(3, 900),
                            pct=rnd.randint(2, 60))
        self.sentences = [fill(rnd.choice(SENTENCES)) for _ in range(1500)]
        self.titles = [fill(rnd.choice(TITLE_TEMPLATES)) for _ in range(800)]
        # Paragraphs of 2-4 sentences, plain and as HTML.
        self.paras = []
        for _ in range(1200):
            p = " ".join(rnd.choice(self.sentences)
                         for _ in range(rnd.randint(2, 4)))
            self.paras.append(p)
        self.html_paras = [rnd.choice(HTML_WRAPS).format(xml_escape(p))
                           for p in self.paras]

    def summary_html(self):
        r = self.rnd
        return "".join(r.choice(self.html_paras) for _ in range(r.randint(1, 2)))

    def content_html(self):
        r = self.rnd
        return "".join(r.choice(self.html_paras) for _ in range(r.randint(3, 7)))


def rfc822(t, rnd):
    tm = time.gmtime(t)
    day = "%02d" % tm.tm_mday if rnd.random() < 0.8 else str(tm.tm_mday)
    return "%s, %s %s %04d %02d:%02d:%02d %s" % (
        DAYS[tm.tm_wday], day, MONTHS[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec, rnd.choice(RFC822_ZONES))


def rfc3339(t, rnd):
    tm = time.gmtime(t)
    frac = ".%03d" % rnd.randint(0, 999) if rnd.random() < 0.3 else ""
    return "%04d-%02d-%02dT%02d:%02d:%02d%s%s" % (
        tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        frac, rnd.choice(RFC3339_ZONES))


class Gen:
    def __init__(self, seed, n_feeds, n_items):
        self.rnd = random.Random(seed)
        self.text = Text(self.rnd)
        self.base_time = 1733476200  # 2024-12-06T09:10:00Z
        # Wire stories: each is carried by about three feeds.
        n_wire = max(1, n_feeds * n_items // 12 // 3)
        self.wire = []
        for i in range(n_wire):
            self.wire.append(self.item_fields("wire.example", i, wire=True))

    def item_fields(self, host, n, wire=False):
        r = self.rnd
        t = self.text
        sec = r.choice(SECTIONS)
        title = r.choice(t.titles)
        ts = self.base_time - r.randint(0, 86400 * 30)
        link = "https://%s/%s/2024/%s-%d" % (host, sec, "story", n)
        return {
            "title": title, "link": link, "time": ts,
            "summary": t.summary_html(), "section": sec,
            "author": r.choice(PEOPLE), "wire": wire,
        }

    def items(self, host, n_items, with_content):
        """Yields the item dicts of one feed."""
        r = self.rnd
        for j in range(n_items):
            if r.random() < 1 / 12:
                it = dict(r.choice(self.wire))
                if r.random() < 0.4:
                    it["link"] += "?utm_source=%s&utm_medium=rss" % host
            else:
                it = self.item_fields(host, j)
            if with_content:
                it["content"] = self.text.content_html()
            yield it


def rss20(g, name, host, items, out):
    r = g.rnd
    out.append('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<rss version="2.0" '
               'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
               'xmlns:dc="http://purl.org/dc/elements/1.1/" '
               'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
               '<title>%s — News</title>\n<link>https://%s/</link>\n'
               '<atom:link href="https://%s/feed.xml" rel="self" '
               'type="application/rss+xml"/>\n'
               '<description>Latest stories from %s</description>\n'
               '<language>en</language>\n<ttl>30</ttl>\n'
               % (name, host, host, name))
    for it in items:
        guid = it["link"]
        parts = ["<item>\n<title>", xml_escape(it["title"]), "</title>\n",
                 "<link>", xml_escape(it["link"]), "</link>\n",
                 '<guid isPermaLink="true">', xml_escape(guid), "</guid>\n",
                 "<pubDate>", rfc822(it["time"], r), "</pubDate>\n",
                 "<dc:creator>", it["author"], "</dc:creator>\n",
                 "<category>", it["section"], "</category>\n",
                 "<description>", xml_escape(it["summary"]),
                 "</description>\n"]
        if "content" in it:
            parts += ["<content:encoded><![CDATA[", it["content"],
                      "]]></content:encoded>\n"]
        if r.random() < 0.1:
            parts.append('<enclosure url="https://%s/img/%d.jpg" '
                         'type="image/jpeg" length="%d"/>\n'
                         % (host, r.randint(1, 10**6), r.randint(10**4, 10**6)))
        parts.append("</item>\n")
        out.append("".join(parts))
    out.append("</channel>\n</rss>\n")


def atom10(g, name, host, items, out):
    r = g.rnd
    out.append('<?xml version="1.0" encoding="utf-8"?>\n'
               '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
               '<title>%s</title>\n<id>tag:%s,2024:feed</id>\n'
               '<link rel="alternate" href="https://%s/"/>\n'
               '<link rel="self" href="https://%s/atom.xml"/>\n'
               '<updated>%s</updated>\n'
               % (name, host, host, host, rfc3339(g.base_time, r)))
    for it in items:
        parts = ["<entry>\n<title>", xml_escape(it["title"]), "</title>\n",
                 '<link rel="alternate" type="text/html" href="',
                 attr_escape(it["link"]), '"/>\n',
                 "<id>", xml_escape(it["link"]), "</id>\n",
                 "<published>", rfc3339(it["time"], r), "</published>\n",
                 "<updated>", rfc3339(it["time"] + 600, r), "</updated>\n",
                 "<author><name>", it["author"], "</name></author>\n",
                 '<category term="', it["section"], '"/>\n',
                 '<summary type="html">', xml_escape(it["summary"]),
                 "</summary>\n"]
        if "content" in it:
            parts += ['<content type="html">', xml_escape(it["content"]),
                      "</content>\n"]
        parts.append("</entry>\n")
        out.append("".join(parts))
    out.append("</feed>\n")


def rss10(g, name, host, items, out):
    r = g.rnd
    items = list(items)
    out.append('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
               'xmlns="http://purl.org/rss/1.0/" '
               'xmlns:dc="http://purl.org/dc/elements/1.1/" '
               'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
               '<channel rdf:about="https://%s/index.rdf">\n'
               '<title>%s</title>\n<link>https://%s/</link>\n'
               '<description>Stories from %s</description>\n'
               '<items><rdf:Seq>\n' % (host, name, host, name))
    out.append("".join('<rdf:li rdf:resource="%s"/>\n' % attr_escape(it["link"])
                       for it in items))
    out.append("</rdf:Seq></items>\n</channel>\n")
    for it in items:
        parts = ['<item rdf:about="', attr_escape(it["link"]), '">\n',
                 "<title>", xml_escape(it["title"]), "</title>\n",
                 "<link>", xml_escape(it["link"]), "</link>\n",
                 "<dc:date>", rfc3339(it["time"], r), "</dc:date>\n",
                 "<dc:creator>", it["author"], "</dc:creator>\n",
                 "<dc:subject>", it["section"], "</dc:subject>\n",
                 "<description>", xml_escape(it["summary"]),
                 "</description>\n"]
        if "content" in it:
            parts += ["<content:encoded><![CDATA[", it["content"],
                      "]]></content:encoded>\n"]
        parts.append("</item>\n")
        out.append("".join(parts))
    out.append("</rdf:RDF>\n")


WRITERS = [("rss20", rss20, 0.55), ("atom10", atom10, 0.30),
           ("rss10", rss10, 0.15)]


def pick_format(rnd):
    x = rnd.random()
    for name, fn, share in WRITERS:
        if x < share:
            return name, fn
        x -= share
    return WRITERS[0][0], WRITERS[0][1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--feeds", type=int, default=5000)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--large-mb", type=float, default=60)
    ap.add_argument("outdir")
    a = ap.parse_args()

    g = Gen(a.seed, a.feeds, a.items)
    fdir = os.path.join(a.outdir, "feeds")
    os.makedirs(fdir, exist_ok=True)
    manifest = {"seed": a.seed, "feeds": [], "formats": {}}
    for i in range(a.feeds):
        name = "f%05d" % i
        host = "news%d.example" % i
        fmt, fn = pick_format(g.rnd)
        with_content = g.rnd.random() < 0.35
        out = []
        fn(g, "%s %s" % (g.rnd.choice(PLACES), "Daily"), host,
           g.items(host, a.items, with_content), out)
        data = "".join(out).encode("utf-8")
        path = os.path.join(fdir, name + ".xml")
        with open(path, "wb") as f:
            f.write(data)
        manifest["feeds"].append([name + ".xml", fmt, len(data), a.items])
        manifest["formats"][fmt] = manifest["formats"].get(fmt, 0) + 1

    # One large RSS 2.0 feed, written in chunks so memory stays flat.
    target = int(a.large_mb * 1e6)
    n = 0
    size = 0
    with open(os.path.join(a.outdir, "large.xml"), "wb") as f:
        head = []
        rss20(g, "Large", "large.example", iter(()), head)
        head_s = "".join(head)
        tail = "</channel>\n</rss>\n"
        b = head_s[: -len(tail)].encode("utf-8")
        f.write(b)
        size += len(b)
        while size < target:
            out = []
            rss20(g, "Large", "large.example",
                  g.items("large.example", 500, True), out)
            body = "".join(out[1:-1]).encode("utf-8")
            f.write(body)
            size += len(body)
            n += 500
        b = tail.encode("utf-8")
        f.write(b)
        size += len(b)
    manifest["large"] = ["large.xml", "rss20", size, n]
    manifest["total_bytes"] = sum(x[2] for x in manifest["feeds"])
    manifest["total_items"] = sum(x[3] for x in manifest["feeds"])
    with open(os.path.join(a.outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
