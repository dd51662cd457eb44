/*
 * test_date.c — the date table: strings found in feeds, good and bad,
 * each with the RFC 3339 UTC date it must parse to, or NULL when it must
 * be rejected; then HTTP dates, formatting and the civil-date arithmetic.
 */
#include "runner.h"

#include <time.h>

#include "tributary/article.h"
#include "tributary/date.h"
#include "tributary/error.h"

struct date_case {
	const char *in;
	const char *want; /* RFC 3339 in UTC, or NULL: invalid */
};

static const struct date_case date_table[] = {
    /* RFC 822 / 1123 as written by the specs. */
    {"Fri, 06 Dec 2024 09:30:00 GMT", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 +0000", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 -0000", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 +0100", "2024-12-06T08:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 -0500", "2024-12-06T14:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 +0530", "2024-12-06T04:00:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 -0930", "2024-12-06T19:00:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 +1400", "2024-12-05T19:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 -1200", "2024-12-06T21:30:00Z"},
    {"Sat, 07 Sep 2002 00:00:01 GMT", "2002-09-07T00:00:01Z"},
    {"Tue, 10 Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"},
    {"Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    /* Named zones. */
    {"Fri, 06 Dec 2024 09:30:00 UT", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 UTC", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 Z", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 EST", "2024-12-06T14:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 EDT", "2024-12-06T13:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 CST", "2024-12-06T15:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 CDT", "2024-12-06T14:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 MST", "2024-12-06T16:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 MDT", "2024-12-06T15:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 PST", "2024-12-06T17:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 PDT", "2024-12-06T16:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 gmt", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 pst", "2024-12-06T17:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 CET", "2024-12-06T08:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 GMT+0100", "2024-12-06T08:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 UTC-05:00", "2024-12-06T14:30:00Z"},
    /* Military zones, with RFC 822's signs (A = -1 ... N = +1). */
    {"Fri, 06 Dec 2024 09:30:00 A", "2024-12-06T10:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 M", "2024-12-06T21:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 N", "2024-12-06T08:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 Y", "2024-12-05T21:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 z", "2024-12-06T09:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 J", NULL},
    /* Numeric offsets in other spellings. */
    {"Fri, 06 Dec 2024 09:30:00 +01:00", "2024-12-06T08:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 -05", "2024-12-06T14:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 +1", "2024-12-06T08:30:00Z"},
    {"Fri, 06 Dec 2024 09:30:00 +2400", NULL},
    {"Fri, 06 Dec 2024 09:30:00 +1500", NULL},
    {"Fri, 06 Dec 2024 09:30:00 +0160", NULL},
    {"Fri, 06 Dec 2024 09:30:00 +01:60", NULL},
    {"Fri, 06 Dec 2024 09:30:00 +", NULL},
    {"Fri, 06 Dec 2024 09:30:00 +123", NULL},
    {"Fri, 06 Dec 2024 09:30:00 +012345", NULL},
    /* Wild RFC 822 variants. */
    {"Tue, 10 Jun 2003 04:00:00 +0000 (UTC)", "2003-06-10T04:00:00Z"},
    {"Tue, 10 Jun 2003 04:00:00 -0400 (EDT)", "2003-06-10T08:00:00Z"},
    {"10 Jun 2003 04:00 GMT", "2003-06-10T04:00:00Z"},
    {"10 Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"},
    {"Tue 10 Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"},
    {"Tue, 10. Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"},
    {"Tue, 1 Jul 2003 10:52:37 +0200", "2003-07-01T08:52:37Z"},
    {"Tue,  1 Jul 2003  10:52:37   +0200", "2003-07-01T08:52:37Z"},
    {"  Tue, 01 Jul 2003 10:52:37 GMT  ", "2003-07-01T10:52:37Z"},
    {"Tuesday, 01 July 2003 10:52:37 GMT", "2003-07-01T10:52:37Z"},
    {"TUE, 01 JUL 2003 10:52:37 GMT", "2003-07-01T10:52:37Z"},
    {"tue, 01 jul 2003 10:52:37 gmt", "2003-07-01T10:52:37Z"},
    {"Tue, 01 Jul 03 10:52:37 GMT", "2003-07-01T10:52:37Z"},
    {"Thu, 01 Jan 70 00:00:00 GMT", "1970-01-01T00:00:00Z"},
    {"Wed, 31 Dec 99 23:59:59 GMT", "1999-12-31T23:59:59Z"},
    {"Sat, 01 Jan 00 00:00:00 GMT", "2000-01-01T00:00:00Z"},
    {"Wed, 31 Dec 49 12:00:00 GMT", "2049-12-31T12:00:00Z"},
    {"Fri, 31 Dec 50 12:00:00 GMT", "1950-12-31T12:00:00Z"},
    {"Tue, 01 Jul 2003 10:52 +0200", "2003-07-01T08:52:00Z"},
    {"Tue, 01 Jul 2003 9:05:00 GMT", "2003-07-01T09:05:00Z"},
    {"Tue, 01 Jul 2003", "2003-07-01T00:00:00Z"},
    {"01 Jul 2003", "2003-07-01T00:00:00Z"},
    {"Tue, 01 Jul 2003 10:52:37", "2003-07-01T10:52:37Z"},
    {"Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    {"Thu, 99 Mar 2024 10:00:00 +0000", NULL},
    {"mer, 16 nov 2022 00:38:15 +0100", "2022-11-15T23:38:15Z"},
    /* Month names of other languages, from localized date functions. */
    {"Mi, 16 Okt 2022 10:00:00 +0200", "2022-10-16T08:00:00Z"},
    {"Do, 02 M\xc3\xa4r 2023 10:00:00 +0100", "2023-03-02T09:00:00Z"},
    {"Mo, 06 Mai 2024 10:00:00 GMT", "2024-05-06T10:00:00Z"},
    {"Di, 31 Dez 2024 23:00:00 GMT", "2024-12-31T23:00:00Z"},
    {"Mittwoch, 16 Oktober 2022", "2022-10-16T00:00:00Z"},
    {"mar., 03 d\xc3\xa9" "c. 2024 12:00:00 +0100", "2024-12-03T11:00:00Z"},
    {"jeu., 15 ao\xc3\xbbt 2024 08:00 GMT", "2024-08-15T08:00:00Z"},
    {"lun, 05 f\xc3\xa9vr 2024 08:00 GMT", "2024-02-05T08:00:00Z"},
    {"1 juil. 2024", "2024-07-01T00:00:00Z"},
    {"lun, 15 ene 2024 10:00:00 +0100", "2024-01-15T09:00:00Z"},
    {"vie, 09 ago 2024 10:00:00 GMT", "2024-08-09T10:00:00Z"},
    {"s\xc3\xa1" "b, 14 dic 2024 10:00:00 GMT", "2024-12-14T10:00:00Z"},
    {"gio, 11 lug 2024 10:00:00 GMT", "2024-07-11T10:00:00Z"},
    {"mer, 02 ott 2024 10:00:00 GMT", "2024-10-02T10:00:00Z"},
    {"qua, 30 out 2024 10:00:00 -0300", "2024-10-30T13:00:00Z"},
    {"ter, 10 set 2024 10:00:00 GMT", "2024-09-10T10:00:00Z"},
    {"za, 04 mei 2024 10:00:00 +0200", "2024-05-04T08:00:00Z"},
    {"vr, 01 mrt 2024 10:00:00 GMT", "2024-03-01T10:00:00Z"},
    {"Mar. 6, 2024", "2024-03-06T00:00:00Z"},
    {"mar, 06 dic 2024", "2024-12-06T00:00:00Z"},
    {"\xce\x9a\xcf\x85\xcf\x81, 11 \xce\x99\xce\xbf\xcf\x8d\xce\xbb 2004"
     " 12:00:00 EST", "2004-07-11T17:00:00Z"},
    {"\xce\xa4\xce\xb5\xcf\x84, 03 \xce\x94\xce\xb5\xce\xba 2008"
     " 09:00:00 +0200", "2008-12-03T07:00:00Z"},
    {"Tue, 01 Foo 2024 10:00:00 GMT", NULL},
    {"Tue, 01 \xc3\xa9t\xc3\xa9 2024 10:00:00 GMT", NULL},
    {"Tue, 01 Dezembrozzzzzzzzzzzzzzzzz 2024", NULL},
    {"Sat, Dec 16 2023 02:02:33 PM", "2023-12-16T14:02:33Z"},
    {"Dec 16, 2023 12:10:00 AM GMT", "2023-12-16T00:10:00Z"},
    {"Dec 16, 2023 12:10:00 PM GMT", "2023-12-16T12:10:00Z"},
    {"Thu, 15 Aug 2024 09:30 EDT", "2024-08-15T13:30:00Z"},
    {"Tue, 10 Jun 2003 04:00:00.123 GMT", "2003-06-10T04:00:00Z"},
    {"Friday, December 6, 2024 9:30 AM", "2024-12-06T09:30:00Z"},
    {"Friday, December 6, 2024 9:30 PM EST", "2024-12-07T02:30:00Z"},
    {"December 6, 2024", "2024-12-06T00:00:00Z"},
    {"6 December 2024 13:00 CEST", "2024-12-06T11:00:00Z"},
    {"Dec. 6, 2024", "2024-12-06T00:00:00Z"},
    {"6 Sept 2024 10:00 GMT", "2024-09-06T10:00:00Z"},
    {"Mon, 13 Feb, 2012 06:28:00 UTC", "2012-02-13T06:28:00Z"},
    {"Thu Aug 30 2012 17:26:16 +0200", "2012-08-30T15:26:16Z"},
    {"Sun Jul 15 01:16:00 +0000 2012", "2012-07-15T01:16:00Z"},
    {"Wed, 19 Aug 2009 18:28:00 Etc/GMT", "2009-08-19T18:28:00Z"},
    {"Wed, 19 Aug 2009 18:28:00 Etc/Berlin", NULL},
    {"Sun, 19 Feb 2012 22:40:00 GMT-01:01", "2012-02-19T23:41:00Z"},
    {"Mon, 26 January 2004 16:31:00 ET", "2004-01-26T21:31:00Z"},
    {"Mon, 26 January 2004 16:31:00 PT", "2004-01-27T00:31:00Z"},
    {"Thu, 30 Apr 2015 08:57:00 MEST", "2015-04-30T06:57:00Z"},
    {"Thu, 01 Jan 0100 00:00:01 +0100", "0099-12-31T23:00:01Z"},
    {"Sun, 31 Dec 9999 23:59:59 -9999", NULL},
    {"Sun, 16 Dec 2012 1:2:3 GMT", NULL},
    {"Sun, 16 Dec 2012 11:47:32:4 GMT", NULL},
    {"Sun, 16 Dec zz 11:47:32 GMT", NULL},
    {"Sun, Dec x 2012 11:47:32 GMT", NULL},
    {"Sun, 16 Dec 2012 11:47:32 +zz:00", NULL},
    {"Sun, 16 Dec 2012 11:47:32 +00:zz", NULL},
    {"Sun, 16 Dec 2012 11:47:32 PM", "2012-12-16T23:47:32Z"},
    {"Sun, 16 Dec 2012 13:47:32 PM", NULL},
    {"Sun, 16 Dec 2012 00:47:32 AM", NULL},
    /* Leap years and range checks. */
    {"Thu, 29 Feb 2024 12:00:00 GMT", "2024-02-29T12:00:00Z"},
    {"Tue, 29 Feb 2000 12:00:00 GMT", "2000-02-29T12:00:00Z"},
    {"Thu, 29 Feb 2023 12:00:00 GMT", NULL},
    {"Mon, 29 Feb 1900 12:00:00 GMT", NULL},
    {"Thu, 31 Apr 2024 12:00:00 GMT", NULL},
    {"Thu, 00 Apr 2024 12:00:00 GMT", NULL},
    {"Thu, 32 Jan 2024 12:00:00 GMT", NULL},
    {"Thu, 01 Jan 2024 24:00:00 GMT", NULL},
    {"Thu, 01 Jan 2024 23:60:00 GMT", NULL},
    {"Thu, 01 Jan 2024 23:59:61 GMT", NULL},
    {"Sat, 31 Dec 2016 23:59:60 GMT", "2016-12-31T23:59:59Z"},
    {"Thu, 01 Foo 2024 12:00:00 GMT", NULL},
    {"Thu, 01 Jan 2024 12:00:00 XYZ", NULL},
    {"Thu, 01 Jan 2024 12:00:00 GMT garbage", NULL},
    {"Thu, 01 Jan 2024 12:00:00 GMT (unclosed", NULL},
    {"Thu, 01 Jan 2024 12:00:00 GMT (ok) x", NULL},
    {"Thu, 01 Jan 2024 12:00:00 GMT (a (nested) one)", "2024-01-01T12:00:00Z"},
    {"Thu, 01 Jan 2024 12:00:00 GMT (a (nested) one", NULL},
    {"Thu, 01 Jan 2024 12:00:00 GMT (one) (two)", NULL},
    {"Thu, 01 Jan 2024 12:00:00 +0000 +0000", NULL},
    {"Thu, 01 Jan 124 12:00:00 GMT", NULL},
    {"Thu, 01 Jan 12024 12:00:00 GMT", NULL},
    {"Thu, 01 Jan 2024 12:00:", NULL},
    {"Thu, 01 Jan 2024 12", NULL},
    {"Thu, 01 Jan", NULL},
    {"Thu,", NULL},
    {"Blursday, 01 Jan 2024 12:00:00 GMT", "2024-01-01T12:00:00Z"},
    {"Blursday 01 Jan 2024 12:00:00 GMT", NULL},
    /* asctime and its Unix date(1) cousin. */
    {"Fri Dec  6 09:30:00 2024", "2024-12-06T09:30:00Z"},
    {"Fri Dec 06 09:30:00 2024", "2024-12-06T09:30:00Z"},
    {"Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z"},
    {"Fri Dec 6 09:30:00 UTC 2024", "2024-12-06T09:30:00Z"},
    {"Fri Dec 6 09:30:00 EST 2024", "2024-12-06T14:30:00Z"},
    {"Fri Dec  6 09:30:00", NULL},
    /* RFC 3339 / ISO 8601 / W3C-DTF. */
    {"2024-12-06T09:30:00Z", "2024-12-06T09:30:00Z"},
    {"2024-12-06t09:30:00z", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30:00+00:00", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30:00-00:00", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30:00+01:00", "2024-12-06T08:30:00Z"},
    {"2024-12-06T09:30:00-05:00", "2024-12-06T14:30:00Z"},
    {"2024-12-06T09:30:00+0100", "2024-12-06T08:30:00Z"},
    {"2024-12-06T09:30:00+01", "2024-12-06T08:30:00Z"},
    {"2024-12-06T01:30:00+05:30", "2024-12-05T20:00:00Z"},
    {"2024-12-06T09:30:00.5Z", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30:00.123456789Z", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30:00,25+01:00", "2024-12-06T08:30:00Z"},
    {"2024-12-06T09:30Z", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30+01:00", "2024-12-06T08:30:00Z"},
    {"2024-12-06T09:30", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30:00", "2024-12-06T09:30:00Z"},
    {"2024-12-06 09:30:00", "2024-12-06T09:30:00Z"},
    {"2024-12-06 09:30:00Z", "2024-12-06T09:30:00Z"},
    {"2024-12-06 09:30:00 +0100", "2024-12-06T08:30:00Z"},
    {"2024-12-06 09:30:00 UTC", "2024-12-06T09:30:00Z"},
    {"2024-12-06", "2024-12-06T00:00:00Z"},
    {"2024-12", "2024-12-01T00:00:00Z"},
    {"2024", "2024-01-01T00:00:00Z"},
    {"20241206T093000Z", "2024-12-06T09:30:00Z"},
    {"20241206T093000+0100", "2024-12-06T08:30:00Z"},
    {"20241206T0930Z", "2024-12-06T09:30:00Z"},
    {"20241206", "2024-12-06T00:00:00Z"},
    {"2017-06-13T03:18:00+00:0", "2017-06-13T03:18:00Z"},
    {"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"},
    {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
    {"2023-02-29T00:00:00Z", NULL},
    {"2024-13-01T00:00:00Z", NULL},
    {"2024-00-01T00:00:00Z", NULL},
    {"2024-12-32", NULL},
    {"2024-12-06T24:00:00Z", NULL},
    {"2024-12-06T09:60:00Z", NULL},
    {"2024-12-06T09:30:61Z", NULL},
    {"2024-12-06T09:30:00+15:00", NULL},
    {"2024-12-06T09:30:00+14:30", NULL},
    {"2024-12-06T09:30:00+01:60", NULL},
    {"2024-12-06T09:30:00+25:00", NULL},
    {"2024-12-06T09:30:00Zjunk", NULL},
    {"2024-12-06T09:30:00.Z", NULL},
    {"2024-12-06T09", NULL},
    {"2024-12-06T", NULL},
    {"2024-1-6", NULL},
    /* Slashes for a whole date's hyphens (Perforce), with or without a
     * weekday; and a month zero-padded to three digits. */
    {"Fri, 2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z"},
    {"2006/09/15 08:19:53 EDT", "2006-09-15T12:19:53Z"},
    {"2006/09/15 08:19", "2006-09-15T08:19:00Z"},
    {"2024/12/06", "2024-12-06T00:00:00Z"},
    {"Fri 2024/12/06", "2024-12-06T00:00:00Z"},
    {"Fri, 2024-12-06T09:30:00Z", "2024-12-06T09:30:00Z"},
    {"2024/12", NULL},
    {"2024/12-06", NULL},
    {"2024-12/06", NULL},
    {"2024/13/06", NULL},
    {"2024/2/6", NULL},
    {"Fri, 2024/12/06 25:00", NULL},
    /* A month's name between hyphens (Hungarian feeds), a one-digit
     * hour in the extended form. */
    {"2004-j\xc3\xbalius-13T9:15-05:00", "2004-07-13T14:15:00Z"},
    {"2004-j\xc3\xbalius-13", "2004-07-13T00:00:00Z"},
    {"2004-m\xc3\xa1rcius-01T10:00:00Z", "2004-03-01T10:00:00Z"},
    {"2004-okt\xc3\xb3" "ber-05 08:00", "2004-10-05T08:00:00Z"},
    {"2024-Dec-06", "2024-12-06T00:00:00Z"},
    {"2004-j\xc3\xbalius-5T9:15Z", "2004-07-05T09:15:00Z"},
    {"2004-07-5", NULL},
    {"2004-Dec-123", NULL},
    {"13 j\xc3\xbalius 2004", "2004-07-13T00:00:00Z"},
    {"2004. \xc3\xa1pr. 2", NULL},
    {"2004-j\xc3\xbalius", NULL},
    {"2004-j\xc3\xbalius-", NULL},
    {"2024/Dec/06", NULL},
    {"2024-Foo-06", NULL},
    {"2024-12-06T9:30Z", "2024-12-06T09:30:00Z"},
    {"2024-12-06T123:30Z", NULL},
    /* Korean (년 월 일; 오전 AM, 오후 PM): Korea's time unless a zone is
     * named. */
    {"2004\xeb\x85\x84 05\xec\x9b\x94 28\xec\x9d\xbc  01:31:15",
     "2004-05-27T16:31:15Z"},
    {"2004\xeb\x85\x84 5\xec\x9b\x94 28\xec\x9d\xbc",
     "2004-05-27T15:00:00Z"},
    {"2004\xeb\x85\x84 05\xec\x9b\x94 28\xec\x9d\xbc 01:31:15 +0000",
     "2004-05-28T01:31:15Z"},
    {"2004\xeb\x85\x84 13\xec\x9b\x94 28\xec\x9d\xbc", NULL},
    {"2004\xeb\x85\x84 05\xec\x9b\x94", NULL},
    {"2004\xeb\x85\x84 05\xec\x9b\x94 28", NULL},
    {"2004-05-25 \xec\x98\xa4\xed\x9b\x84 11:23:17",
     "2004-05-25T14:23:17Z"},
    {"2004-05-25 \xec\x98\xa4\xec\xa0\x84 11:23:17",
     "2004-05-25T02:23:17Z"},
    {"2004-05-25 \xec\x98\xa4\xed\x9b\x84 12:00:00",
     "2004-05-25T03:00:00Z"},
    {"2004-05-25 \xec\x98\xa4\xec\xa0\x84 12:30",
     "2004-05-24T15:30:00Z"},
    {"2004-05-25 \xec\x98\xa4\xed\x9b\x84 11:23:17 +0000",
     "2004-05-25T23:23:17Z"},
    {"2004-05-25 \xec\x98\xa4\xed\x9b\x84 13:00:00", NULL},
    {"2004-05-25 \xec\x98\xa4\xed\x9b\x84", NULL},
    {"2004-05-25 \xec\x98\xa4 11:23:17", NULL},
    {"2003-012-31T10:14:55+00:00", "2003-12-31T10:14:55Z"},
    /* Three digits alone after the year: ISO 8601's ordinal day. */
    {"2003-012", "2003-01-12T00:00:00Z"},
    /* Ordinal dates, extended and basic, with a time or not. */
    {"2003-335", "2003-12-01T00:00:00Z"},
    {"2003335", "2003-12-01T00:00:00Z"},
    {"2003-001", "2003-01-01T00:00:00Z"},
    {"2003-059", "2003-02-28T00:00:00Z"},
    {"2003-060", "2003-03-01T00:00:00Z"},
    {"2004-060", "2004-02-29T00:00:00Z"},
    {"2004-366", "2004-12-31T00:00:00Z"},
    {"2003-365T23:59:59Z", "2003-12-31T23:59:59Z"},
    {"2003-335T10:14:55+01:00", "2003-12-01T09:14:55Z"},
    {"2003-335 10:14", "2003-12-01T10:14:00Z"},
    {"2003335T101455Z", "2003-12-01T10:14:55Z"},
    {"2003-366", NULL},
    {"2003-000", NULL},
    {"2003-400", NULL},
    {"2003-0335", NULL},
    {"2003-33", NULL},
    /* ISO 8601's years of two digits are refused (see parse_iso()): a
     * day-first date would be read as one years back. */
    {"03-12-31", NULL},
    {"06-12-24", NULL},
    {"031231", NULL},
    {"03-12-31T10:14:55Z", NULL},
    {"03-335", NULL},
    {"03335", NULL},
    {"-03-12", NULL},
    {"-0312", NULL},
    {"--12-31", NULL},
    {"12345678901", NULL},
    /* Two digits before a month's name stay the RFC 822 family's. */
    {"06-Dec-94", "1994-12-06T00:00:00Z"},
    {"2003-112-31", NULL},
    {"2003-0012-31", NULL},
    {"2004-07-08 23:56:58 -00:20", "2004-07-09T00:16:58Z"},
    {"2004-07-08 23:56:58.0", "2004-07-08T23:56:58Z"},
    {"2007-04-23T23:25:47.538+10:00", "2007-04-23T13:25:47Z"},
    {"2004-02-28T18:14:55-08:00", "2004-02-29T02:14:55Z"},
    {"2003-02-28T18:14:55-08:00", "2003-03-01T02:14:55Z"},
    {"2003-12-31T25:14:55Z", NULL},
    {"22013", NULL},
    {"013", NULL},
    {"2013-01-27-01", NULL},
    {"2013-01-28T11:30:00-06:00Textra", NULL},
    {"2013-xx-27", NULL},
    {"2013-01-28T09:xx:00Z", NULL},
    {"2013-01-28T09:00:00+00:xx", NULL},
    {"2024-12-06TT09:30:00Z", NULL},
    {"2024-12-06T09:30:00ZZ", NULL},
    {"2024-12-06T09:30:00+01:00:00", NULL},
    {"24-12-06", NULL},
    {"2024-12-06T09:30:00Z (comment)", "2024-12-06T09:30:00Z"},
    {"2024-12-06T09:30:00Z ", "2024-12-06T09:30:00Z"},
    {"\t2024-12-06T09:30:00Z\n", "2024-12-06T09:30:00Z"},
    /* Before 1970 and after 2038. */
    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
    {"1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z"},
    {"Mon, 01 Jan 1900 00:00:00 GMT", "1900-01-01T00:00:00Z"},
    {"1601-01-01T00:00:00Z", "1601-01-01T00:00:00Z"},
    {"2038-01-19T03:14:08Z", "2038-01-19T03:14:08Z"},
    {"2100-03-01T00:00:00Z", "2100-03-01T00:00:00Z"},
    {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
    {"0000-01-01T00:00:00+01:00", NULL},
    /* Not dates at all. */
    {"", NULL},
    {"   ", NULL},
    {"now", NULL},
    {"today", NULL},
    {"0", NULL},
    {"1733477400", NULL},
    {"12/06/2024", NULL},
    {"06/12/2024", NULL},
    {"Dec", NULL},
    {"GMT", NULL},
    {"(comment)", NULL},
    {"Fri, 06 Dec 2024 09:30:00 GMT\x01", NULL},
};

static void
test_date_table(void)
{
	size_t i, n = sizeof(date_table) / sizeof(date_table[0]);

	CHECK(n >= 100);
	for (i = 0; i < n; i++) {
		const struct date_case *c = &date_table[i];
		int64_t t = 12345;
		char got[64];
		int rc = tr_date_parse(&t, c->in);

		if (rc == 0)
			tr_date_format_rfc3339(got, sizeof(got), t);
		else {
			if (t != TR_DATE_NONE) {
				printf("  [%s] *out not TR_DATE_NONE\n", c->in);
				tr_test_failed_checks++;
			}
			if (rc != TR_EINVAL) {
				printf("  [%s] rc %d\n", c->in, rc);
				tr_test_failed_checks++;
			}
		}
		if (rc != 0)
			snprintf(got, sizeof(got), "invalid");
		CHECK_STR_CASE(c->in, got, c->want ? c->want : "invalid");
	}
}

static void
test_date_null(void)
{
	int64_t t = 0;

	CHECK_INT(tr_date_parse(&t, NULL), TR_EINVAL);
	CHECK(t == TR_DATE_NONE);
	t = 0;
	CHECK_INT(tr_date_parse_http(&t, NULL), TR_EINVAL);
	CHECK(t == TR_DATE_NONE);
}

/* The three forms of RFC 9110 §5.6.7, and what is not an HTTP date. */
static const struct date_case http_table[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    {"Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    {"Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z"},
    {"Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
    {"Wed, 21 Oct 2015 07:28:00 GMT", "2015-10-21T07:28:00Z"},
    {"Wednesday, 21-Oct-15 07:28:00 GMT", "2015-10-21T07:28:00Z"},
    {"Wed Oct 21 07:28:00 2015", "2015-10-21T07:28:00Z"},
    {"Sun, 06 Nov 1994 08:49:37 +0100", "1994-11-06T07:49:37Z"},
    {"Sun, 06 Nov 1994 08:49:37 GMT ", "1994-11-06T08:49:37Z"},
    {"1994-11-06T08:49:37Z", NULL},
    {"Sun, 06 Nov 1994 08:49:37 GMTx", NULL},
    {"Sun, 31 Nov 1994 08:49:37 GMT", NULL},
    {"", NULL},
    {"-1", NULL},
};

static void
test_date_http(void)
{
	size_t i, n = sizeof(http_table) / sizeof(http_table[0]);

	for (i = 0; i < n; i++) {
		const struct date_case *c = &http_table[i];
		int64_t t = 12345;
		char got[64] = "invalid";

		if (tr_date_parse_http(&t, c->in) == 0)
			tr_date_format_rfc3339(got, sizeof(got), t);
		else
			CHECK(t == TR_DATE_NONE);
		CHECK_STR_CASE(c->in, got, c->want ? c->want : "invalid");
	}
}

static void
test_date_format(void)
{
	char b[64];

	tr_date_format_rfc3339(b, sizeof(b), 0);
	CHECK_STR(b, "1970-01-01T00:00:00Z");
	tr_date_format_rfc3339(b, sizeof(b), 1733477400);
	CHECK_STR(b, "2024-12-06T09:30:00Z");
	tr_date_format_rfc3339(b, sizeof(b), -1);
	CHECK_STR(b, "1969-12-31T23:59:59Z");
	tr_date_format_rfc3339(b, sizeof(b), 4102444800LL);
	CHECK_STR(b, "2100-01-01T00:00:00Z");
	tr_date_format_rfc3339(b, sizeof(b), -2208988800LL);
	CHECK_STR(b, "1900-01-01T00:00:00Z");
	tr_date_format_rfc3339(b, sizeof(b), TR_DATE_NONE);
	CHECK_STR(b, "");

	tr_date_format_rfc822(b, sizeof(b), 1733477400);
	CHECK_STR(b, "Fri, 06 Dec 2024 09:30:00 GMT");
	tr_date_format_rfc822(b, sizeof(b), 0);
	CHECK_STR(b, "Thu, 01 Jan 1970 00:00:00 GMT");
	tr_date_format_rfc822(b, sizeof(b), -1);
	CHECK_STR(b, "Wed, 31 Dec 1969 23:59:59 GMT");
	tr_date_format_rfc822(b, sizeof(b), 784111777);
	CHECK_STR(b, "Sun, 06 Nov 1994 08:49:37 GMT");
	tr_date_format_rfc822(b, sizeof(b), 2147483648LL);
	CHECK_STR(b, "Tue, 19 Jan 2038 03:14:08 GMT");
	tr_date_format_rfc822(b, sizeof(b), TR_DATE_NONE);
	CHECK_STR(b, "");

	/* Truncation keeps a terminated string. */
	tr_date_format_rfc3339(b, 5, 1733477400);
	CHECK_STR(b, "2024");
	b[0] = 'x';
	tr_date_format_rfc822(b, 1, 1733477400);
	CHECK_STR(b, "");
}

static void
test_date_civil(void)
{
	CHECK_INT(tr_date_from_civil(1970, 1, 1, 0, 0, 0), 0);
	CHECK_INT(tr_date_from_civil(2024, 12, 6, 9, 30, 0), 1733477400);
	CHECK_INT(tr_date_from_civil(1969, 12, 31, 23, 59, 59), -1);
	CHECK_INT(tr_date_from_civil(2000, 3, 1, 0, 0, 0), 951868800);
	CHECK_INT(tr_date_from_civil(1900, 1, 1, 0, 0, 0), -2208988800LL);
	CHECK_INT(tr_date_from_civil(2038, 1, 19, 3, 14, 8), 2147483648LL);
	CHECK_INT(tr_date_from_civil(0, 1, 1, 0, 0, 0), -62167219200LL);
	CHECK_INT(tr_date_from_civil(9999, 12, 31, 23, 59, 59), 253402300799LL);
}

/* Every second of a few days around odd places formats and parses back. */
static void
test_date_round_trip(void)
{
	static const int64_t starts[] = {
	    -62167219200LL, -2208988800LL, -86400,        0,
	    951782400,      2147483000LL,  253402214400LL};
	size_t i;
	int64_t t, back;
	char b[64], c[64];
	int bad = 0;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		for (t = starts[i]; t < starts[i] + 86400; t += 7) {
			tr_date_format_rfc3339(b, sizeof(b), t);
			if (tr_date_parse(&back, b) != 0 || back != t)
				bad++;
			tr_date_format_rfc822(c, sizeof(c), t);
			if (tr_date_parse_http(&back, c) != 0 || back != t)
				bad++;
		}
	CHECK_INT(bad, 0);
}

/* Results do not depend on the process's time zone or locale. */
static void
test_date_tz_independent(void)
{
	static const char *const tzs[] = {"UTC0", "America/New_York",
	                                  "Pacific/Kiritimati",
	                                  "EST5EDT,M3.2.0,M11.1.0"};
	size_t i;
	int64_t t;
	char b[64];

	for (i = 0; i < sizeof(tzs) / sizeof(tzs[0]); i++) {
		setenv("TZ", tzs[i], 1);
		tzset();
		CHECK_INT(tr_date_parse(&t, "Sun, 10 Mar 2024 02:30:00 EST"),
		          0);
		CHECK_INT(t, 1710055800);
		CHECK_INT(tr_date_parse(&t, "2024-07-01T12:00:00"), 0);
		CHECK_INT(t, 1719835200);
		tr_date_format_rfc822(b, sizeof(b), 1719835200);
		CHECK_STR(b, "Mon, 01 Jul 2024 12:00:00 GMT");
	}
	unsetenv("TZ");
	tzset();
}

TR_TESTS(test_date_table, test_date_tz_independent, test_date_null,
         test_date_http, test_date_format, test_date_civil,
         test_date_round_trip)
