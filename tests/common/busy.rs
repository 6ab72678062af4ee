//! A generated capture busy enough to fill batches, queues and shards:
//! many SMTP sessions that overlap in time.

use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::Path;

use mailscope::capture::builder::{Conversation, Dir};
use mailscope::capture::writer::PcapNgWriter;

/// A second in nanoseconds.
const SECOND: u64 = 1_000_000_000;

/// `flows` SMTP sessions that overlap in time, each delivering a message of
/// about `size` bytes; every tenth is cut short by a reset.
pub fn busy_capture(path: &Path, flows: u32, size: usize) {
    let mut frames = Vec::new();
    for i in 0..flows {
        let client: SocketAddr = format!("10.1.{}.{}:{}", i / 250, 1 + i % 250, 40_000 + i)
            .parse()
            .unwrap();
        let server: SocketAddr = format!("192.0.2.{}:25", 1 + i % 7).parse().unwrap();
        let mut c = Conversation::new(
            client,
            server,
            1_700_000_000 * SECOND + u64::from(i) * 3_000_000,
        );
        c.handshake();
        c.line(Dir::ServerToClient, "220 mx.example ESMTP");
        c.line(Dir::ClientToServer, &format!("EHLO client{i}.example"));
        c.line(Dir::ServerToClient, "250 mx.example");
        c.line(
            Dir::ClientToServer,
            &format!("MAIL FROM:<user{i}@crepes.fr>"),
        );
        c.line(Dir::ServerToClient, "250 OK");
        c.line(Dir::ClientToServer, "RCPT TO:<bob@hamburger.edu>");
        c.line(Dir::ServerToClient, "250 OK");
        c.line(Dir::ClientToServer, "DATA");
        c.line(Dir::ServerToClient, "354 go ahead");
        let mut message = format!(
            "From: user{i}@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: batch {i}\r\nMessage-ID: <{}@crepes.fr>\r\n\r\n",
            i % 50
        );
        while message.len() < size {
            message.push_str(&format!(
                "line {} of message {i}, some words to read\r\n",
                message.len()
            ));
        }
        message.push_str(".\r\n");
        c.client_sends(message.as_bytes());
        if i % 10 == 9 {
            c.reset(Dir::ClientToServer);
        } else {
            c.line(Dir::ServerToClient, "250 queued");
            c.line(Dir::ClientToServer, "QUIT");
            c.line(Dir::ServerToClient, "221 bye");
            c.close();
        }
        frames.extend(c.into_frames());
    }
    frames.sort_by_key(|f| f.ts_nanos);
    let file = BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PcapNgWriter::new(file).unwrap();
    let iface = w.add_interface(1, 0, None).unwrap();
    for f in &frames {
        w.write_packet(iface, f.ts_nanos, &f.data).unwrap();
    }
}
