//! Messages the tests take apart (here and in the window's inspector).

/// `lines`, each ended with CRLF as on the wire (RFC 5322 §2.1).
pub(crate) fn crlf(lines: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    for l in lines {
        v.extend_from_slice(l.as_bytes());
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Owned `(name, value)` pairs, to compare with header lists.
pub(crate) fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A text body and two attachments, one of them named to escape the
/// folder it is saved in; encoded words and a folded header on top.
pub(crate) fn mixed() -> Vec<u8> {
    crlf(&[
        "From: =?ISO-8859-1?Q?Jos=E9?= <jose@example.es>",
        "To: Ana <ana@example.org>",
        "Subject: =?UTF-8?B?QcOxbyBudWV2bzogcmV1bmnDs24gbWHDsWFuYQ==?=",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "Message-Id: <1@example.es>",
        "X-Folded: one",
        "  two",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"outer\"",
        "",
        "This is a multi-part message in MIME format.",
        "--outer",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Hola Ana, ma=C3=B1ana hay reuni=C3=B3n.",
        "--outer",
        "Content-Type: text/plain; name=\"notes.txt\"",
        "Content-Disposition: attachment; filename=\"notes.txt\"",
        "Content-Transfer-Encoding: base64",
        "",
        "bGluZSBvbmUNCmxpbmUgdHdvDQo=",
        "--outer",
        "Content-Type: application/x-sh",
        "Content-Disposition: attachment; filename=\"../../evil.sh\"",
        "",
        "#!/bin/sh",
        "--outer--",
    ])
}

/// A reply with a multipart/alternative body (plain and HTML) and a
/// forwarded message attached.
pub(crate) fn nested() -> Vec<u8> {
    let mut m = crlf(&[
        "From: ana@example.org",
        "Subject: Re: reunion",
        "Content-Type: multipart/mixed; boundary=b1",
        "",
        "--b1",
        "Content-Type: multipart/alternative; boundary=b2",
        "",
        "--b2",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "See you there.",
        "--b2",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>See you <b>there</b>.</p>",
        "--b2--",
        "--b1",
        "Content-Type: message/rfc822",
        "",
    ]);
    m.extend_from_slice(&crlf(&[
        "From: jose@example.es",
        "Subject: reunion",
        "Content-Type: text/html; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "<html><head><title>x</title></head><body><p>Ma=F1ana a las 10 &amp; caf=E9</p></body></html>",
        "--b1--",
    ]));
    m
}
