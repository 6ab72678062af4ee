//! stub
#[cfg(test)]
mod tests {
    #[test]
    fn scratch() {
        let m = b"From: a@b\r\nSubject: hi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nHello\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=YY\r\n\r\n--YY\r\n\r\nin1\r\n--YY\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--YY--\r\n\r\n--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--XX--\r\nepilogue\r\n";
        let msg = mail_parser::MessageParser::default().parse(&m[..]).unwrap();
        fn dump(msg: &mail_parser::Message, depth: usize) {
            for (i, p) in msg.parts.iter().enumerate() {
                let raw = &msg.raw_message;
                println!(
                    "{:depth$}part {i}: hdr={} body={} end={} {:?} hdr={:?} body={:?}",
                    "",
                    p.offset_header,
                    p.offset_body,
                    p.offset_end,
                    match &p.body {
                        mail_parser::PartType::Multipart(v) => format!("multi {v:?}"),
                        mail_parser::PartType::Message(_) => "msg".into(),
                        _ => "leaf".into(),
                    },
                    String::from_utf8_lossy(&raw[p.offset_header as usize..p.offset_body as usize]),
                    String::from_utf8_lossy(&raw[p.offset_body as usize..p.offset_end as usize])
                );
                if let mail_parser::PartType::Message(m) = &p.body {
                    println!(
                        "{:depth$} inner raw len {} = {:?}",
                        "",
                        m.raw_message.len(),
                        String::from_utf8_lossy(&m.raw_message)
                    );
                    dump(m, depth + 4);
                }
            }
        }
        dump(&msg, 0);
        println!("raw len {}", m.len());
    }
}
