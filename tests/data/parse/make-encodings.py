#!/usr/bin/env python3
"""Writes the enc-*.xml fixtures: one small RSS document in many byte
encodings. Run from this folder; the outputs are committed, so this is only
needed to change them. The .opts files next to some of them carry the HTTP
Content-Type the tests pass."""

DOC = """<?xml version="1.0" encoding="{decl}"?>
<rss version="2.0">
  <channel>
    <title>{feed}</title>
    <link>http://enc.example.com/</link>
    <item>
      <title>{title}</title>
      <link>http://enc.example.com/1</link>
      <description>{desc}</description>
    </item>
  </channel>
</rss>
"""

LATIN = dict(feed="Caf\u00e9 \u00e0 la carte", title="Cr\u00e8me br\u00fbl\u00e9e for \u00a35",
             desc="Na\u00efve \u00bd price")
CP1252 = dict(feed="Caf\u00e9 \u00e0 la carte",
              title="Ministers\u2019 \u201cmeeting\u201d \u2014 \u20ac42bn",
              desc="Na\u00efve \u00bd price\u2026")
UNI = dict(feed="Caf\u00e9 \u00e0 la carte",
           title="Ministers\u2019 meeting \u2014 \u041a\u0438\u0457\u0432 \U0001F539",
           desc="\u65e5\u672c\u8a9e and \u00bd")
CYR = dict(feed="\u041d\u043e\u0432\u043e\u0441\u0442\u0438",
           title="\u041c\u0438\u043d\u0438\u0441\u0442\u0440\u044b \u0432\u0441\u0442\u0440\u0435\u0442\u0438\u043b\u0438\u0441\u044c",
           desc="\u0411\u0440\u044e\u0441\u0441\u0435\u043b\u044c, \u0434\u0435\u043a\u0430\u0431\u0440\u044c")


def write(name, text, codec, bom=b"", opts=None):
    with open(name, "wb") as f:
        f.write(bom + text.encode(codec))
    if opts:
        with open(name[:-4] + ".opts", "w") as f:
            f.write(opts + "\n")


write("enc-utf8.xml", DOC.format(decl="UTF-8", **UNI), "utf-8")
write("enc-utf8-bom.xml", DOC.format(decl="UTF-8", **UNI), "utf-8",
      b"\xef\xbb\xbf")
write("enc-utf16le-bom.xml", DOC.format(decl="UTF-16", **UNI), "utf-16-le",
      b"\xff\xfe")
write("enc-utf16be-bom.xml", DOC.format(decl="UTF-16", **UNI), "utf-16-be",
      b"\xfe\xff")
write("enc-utf16le-nobom.xml", DOC.format(decl="UTF-16LE", **UNI),
      "utf-16-le")
write("enc-utf16be-nobom.xml", DOC.format(decl="UTF-16BE", **UNI),
      "utf-16-be")
write("enc-utf32le-bom.xml", DOC.format(decl="UTF-32", **UNI), "utf-32-le",
      b"\xff\xfe\x00\x00")
write("enc-utf32be-nobom.xml", DOC.format(decl="UTF-32BE", **UNI),
      "utf-32-be")
write("enc-latin1.xml", DOC.format(decl="ISO-8859-1", **LATIN), "latin-1")
# Declared ISO-8859-1, carries windows-1252 bytes (0x92, 0x93, 0x97, 0x80).
write("enc-latin1-cp1252.xml", DOC.format(decl="ISO-8859-1", **CP1252),
      "cp1252")
write("enc-cp1252.xml", DOC.format(decl="windows-1252", **CP1252), "cp1252")
write("enc-koi8r.xml", DOC.format(decl="KOI8-R", **CYR), "koi8-r")
write("enc-cp1251.xml", DOC.format(decl="windows-1251", **CYR), "cp1251")
# The HTTP charset wins over the declaration for XML media types (RFC 7303).
write("enc-http-override.xml", DOC.format(decl="UTF-8", **CYR), "cp1251",
      opts="content-type=application/rss+xml; charset=windows-1251")
# ... but not over a byte order mark.
write("enc-http-bom.xml", DOC.format(decl="UTF-8", **UNI), "utf-8",
      b"\xef\xbb\xbf", opts="content-type=text/xml; charset=iso-8859-1")
# A non-XML media type's charset loses to the declaration.
write("enc-http-html.xml", DOC.format(decl="ISO-8859-1", **LATIN), "latin-1",
      opts="content-type=text/html; charset=utf-8")
# No declaration: UTF-8, unless the HTTP charset says otherwise.
write("enc-nodecl-http.xml",
      DOC.format(decl="x", **LATIN).split("\n", 1)[1], "latin-1",
      opts="content-type=application/xml; charset=ISO-8859-1")
# Labels as feeds write them: code page numbers (XML does not allow them
# as names; the declaration is repaired), IANA and WHATWG aliases.
write("enc-cp437-numeric.xml", DOC.format(decl="437", **LATIN), "cp437")
write("enc-cp866-numeric.xml", DOC.format(decl="866", **CYR), "cp866")
write("enc-ibm861-alias.xml",
      DOC.format(decl="csIBM861", feed="\u00de\u00f3r\u00f0ur \u00e1 \u00cdslandi",
                 title="Fr\u00e9ttir dagsins", desc="\u00d0\u00e6gilegt"),
      "cp861")
write("enc-mac-roman.xml",
      DOC.format(decl="x-mac-roman", feed="Caf\u00e9 \u00e0 la carte",
                 title="Cr\u00e8me br\u00fbl\u00e9e for \u00a35",
                 desc="Na\u00efve \u2020 \u2122 \u00df"), "mac-roman")
# gb2312 is read as GB18030, as browsers do: 丂 and 㐀 are GBK/GB18030 only.
write("enc-gb2312-gbk.xml",
      DOC.format(decl="gb2312", feed="\u65b0\u95fb",
                 title="\u5916\u957f\u4f1a\u8bae \u4e02\u3400",
                 desc="\u5e03\u9c81\u585e\u5c14"), "gb18030")
# A quoted charset parameter, and an XML media type RFC 7303 also covers.
write("enc-http-quoted.xml", DOC.format(decl="UTF-8", **CYR), "cp1251",
      opts="content-type=application/rss+xml; charset='windows-1251'")
write("enc-http-xml-dtd.xml", DOC.format(decl="utf-8", **CYR), "koi8-r",
      opts="content-type=application/xml-dtd; charset=KOI8_R")
