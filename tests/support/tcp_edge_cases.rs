//! TCP reassembly cases: a short ESMTP session with one specific fault each.
//!
//! The dialogue uses an MSS of 536 bytes (the default MSS when none is
//! announced, RFC 9293 section 3.7.1), so that the message travels in several
//! segments. Each capture teaches one thing a reassembler must get right:
//!
//! * `tcp-reordered`: segments that arrive out of order are put back.
//! * `tcp-retransmission`: a segment sent twice counts once.
//! * `tcp-overlap`: when copies of the same bytes differ, the first copy seen
//!   wins.
//! * `tcp-loss`: a segment the capture missed is a gap, not an error.
//! * `tcp-wraparound`: sequence numbers wrap from 2^32 - 1 to 0 mid-stream.
//! * `tcp-midstream`: a capture without the handshake still has a client and
//!   a server.
//! * `tcp-rst`: a connection aborted by a reset ends without FIN.

use mailscope::capture::builder::{Conversation, Dir, Frame};

use super::Sample;
use super::frame_edits::{drop_frame, duplicate, insert_frame, set_ack, swap};
use super::textbook::recipe_body;
use super::toolkit::{START_NANOS, addr, crlf_lines, pcapng_ethernet, seg, span, summary};

/// The message of the short dialogue, with its terminating "." line.
fn short_message() -> Vec<u8> {
    let mut m = crlf_lines(&[
        "From: alice@crepes.fr",
        "To: bob@hamburger.edu",
        "Subject: Crepes",
        "Message-ID: <20240304091500.4714@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "",
    ]);
    m.extend_from_slice(&recipe_body());
    m.extend_from_slice(b".\r\n");
    m
}

/// Where things are in the short dialogue (0-based frame indices).
pub struct ShortSmtp {
    pub conv: Conversation,
    /// The client's "MAIL FROM" data segment.
    pub mail_frame: usize,
    /// Payload sent per direction before "MAIL FROM" (client, server).
    pub before_mail: (u64, u64),
    /// The client's "RCPT TO" data segment.
    pub rcpt_frame: usize,
    /// The data segments carrying the message (each followed by its ACK).
    pub message_frames: Vec<usize>,
}

/// The MSS of the short dialogue: 536 bytes.
pub const SHORT_MSS: usize = 536;

/// The short ESMTP dialogue between `client` and `server`, before any fault.
pub fn short_smtp(client: &str, server: &str) -> ShortSmtp {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut c = Conversation::new(addr(client), addr(server), START_NANOS).mss(SHORT_MSS);
    c.handshake();
    c.line(S, "220 mail.hamburger.edu ESMTP");
    c.line(C, "EHLO client.crepes.fr");
    c.server_sends(&crlf_lines(&[
        "250-mail.hamburger.edu",
        "250-PIPELINING",
        "250-SIZE 10240000",
        "250 8BITMIME",
    ]));
    let mail_frame = c.frames().len();
    let before_mail = (c.payload_sent(C), c.payload_sent(S));
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 2.1.0 Ok");
    let rcpt_frame = c.frames().len();
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    c.line(C, "DATA");
    c.line(S, "354 End data with <CR><LF>.<CR><LF>");
    let first = c.frames().len();
    let message = short_message();
    c.client_sends(&message);
    // Data segment, ACK, data segment, ACK, ...
    let message_frames: Vec<usize> = (0..message.len().div_ceil(SHORT_MSS))
        .map(|k| first + 2 * k)
        .collect();
    c.line(S, "250 2.0.0 Ok: queued as 4714");
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
    ShortSmtp {
        conv: c,
        mail_frame,
        before_mail,
        rcpt_frame,
        message_frames,
    }
}

pub fn tcp_reordered() -> Sample {
    let s = short_smtp("10.0.1.1:40001", "10.0.1.2:25");
    let flows = vec![summary("SMTP", &s.conv)];
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let (a, b) = (s.message_frames[1], s.message_frames[2]);
    let mut frames = s.conv.into_frames();
    let (sa, sb) = (seg(&frames[a]), seg(&frames[b]));
    swap(&mut frames, a, b);
    // The server got the 3rd segment first: it answers with a duplicate ACK
    // for the hole, and acknowledges everything once the 2nd arrives.
    set_ack(&mut frames[a + 1], sa.seq);
    Sample {
        file_name: "tcp-reordered.pcapng",
        description:
            "A short ESMTP session whose message's 2nd and 3rd data segments arrive in the wrong \
                      order; reassembly must put them back so the message is intact."
                .into(),
        flows,
        notes: vec![format!(
            "Packets {} and {} are swapped: packet {} carries client {} ({} bytes), packet {} carries \
             {} ({} bytes). Packet {} is the server's duplicate ACK {} (the hole); packet {} acknowledges \
             both.",
            a + 1,
            b + 1,
            a + 1,
            span(sb.seq, sb.payload.len(), isn),
            sb.payload.len(),
            b + 1,
            span(sa.seq, sa.payload.len(), isn),
            sa.payload.len(),
            a + 2,
            sa.seq,
            b + 2
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn tcp_retransmission() -> Sample {
    let s = short_smtp("10.0.2.1:40002", "10.0.2.2:25");
    let flows = vec![summary("SMTP", &s.conv)];
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let d = s.message_frames[1];
    let mut frames = s.conv.into_frames();
    let sd = seg(&frames[d]);
    // The copy goes after the segment's own ACK: a spurious retransmission,
    // as when a sender's timer fires although the ACK was on its way.
    duplicate(&mut frames, d, d + 1);
    Sample {
        file_name: "tcp-retransmission.pcapng",
        description:
            "A short ESMTP session in which one data segment of the message is sent twice; the \
                      copy must not appear twice in the reassembled stream."
                .into(),
        flows,
        notes: vec![format!(
            "Packet {} (client {}, {} bytes) is retransmitted identically as packet {}, after its ACK \
             (packet {}).",
            d + 1,
            span(sd.seq, sd.payload.len(), isn),
            sd.payload.len(),
            d + 3,
            d + 2
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn tcp_overlap() -> Sample {
    let s = short_smtp("10.0.3.1:40003", "10.0.3.2:25");
    let flows = vec![summary("SMTP", &s.conv)];
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let rcpt = s.rcpt_frame;
    let (d2, d3) = (s.message_frames[1], s.message_frames[2]);
    let mut frames = s.conv.into_frames();
    let mail_line = seg(&frames[s.mail_frame]).payload;

    // Overlap policy (the analyzer's, and Wireshark's): the FIRST copy of a
    // byte seen in the capture wins; later copies of the same sequence
    // numbers are ignored even when their bytes differ. (Operating systems
    // disagree on this, which is what overlap-based IDS evasion exploits;
    // for a capture analyzer "first seen" is the simple, stable choice.)

    // Case 1: the RCPT segment is re-packetized to start 8 bytes early,
    // repeating the end of the already delivered MAIL line with *different*
    // bytes "XXXXXXXX". The stream keeps the original MAIL line.
    const EARLY: usize = 8;
    let mut r = seg(&frames[rcpt]);
    let rcpt_seq = r.seq;
    let rcpt_len = r.payload.len();
    r.seq = r.seq.wrapping_sub(EARLY as u32);
    let mut payload = b"XXXXXXXX".to_vec();
    payload.extend_from_slice(&r.payload);
    r.payload = payload;
    frames[rcpt].data = r.to_frame();

    // Case 2: the 3rd message segment arrives before the 2nd, so it waits in
    // the out-of-order buffer (the server sends a duplicate ACK for the
    // hole). Then a segment arrives that covers the last 10 bytes of the
    // hole (the same bytes the 2nd segment has) and the first 10 bytes of
    // the buffered 3rd segment with *different* bytes "YYYYYYYYYY". Then the
    // 2nd segment fills the hole. First copy wins: the buffered bytes stay.
    const BRIDGE: usize = 10;
    let s2 = seg(&frames[d2]);
    let s3_seq = seg(&frames[d3]).seq;
    swap(&mut frames, d2, d3);
    set_ack(&mut frames[d2 + 1], s2.seq);
    let mut bridge = s2.clone();
    bridge.seq = s3_seq.wrapping_sub(BRIDGE as u32);
    bridge.payload = s2.payload[s2.payload.len() - BRIDGE..].to_vec();
    bridge.payload.extend_from_slice(&[b'Y'; BRIDGE]);
    bridge.ip_id = bridge.ip_id.wrapping_add(0x100); // a packet of its own
    // Insert it just before the (now late) 2nd segment.
    insert_frame(&mut frames, d3, bridge.to_frame());
    let late2 = d3 + 1;

    Sample {
        file_name: "tcp-overlap.pcapng",
        description:
            "A short ESMTP session with overlapping segments whose overlapping bytes differ. \
                      Reassembly policy: the first copy of a byte seen in the capture wins, so the \
                      reassembled streams are exactly the original dialogue (no 'X' or 'Y' bytes)."
                .into(),
        flows,
        notes: vec![
            format!(
                "Packet {} (RCPT TO, {rcpt_len} new bytes) starts {EARLY} bytes early: it carries {} whose \
                 first {EARLY} bytes \"XXXXXXXX\" overlap the end of the MAIL FROM line already delivered \
                 ({}, which keep their original value \"{}\").",
                rcpt + 1,
                span(rcpt_seq.wrapping_sub(EARLY as u32), rcpt_len + EARLY, isn),
                span(rcpt_seq.wrapping_sub(EARLY as u32), EARLY, isn),
                mail_line[mail_line.len() - EARLY..].escape_ascii(),
            ),
            format!(
                "Message segments 2 and 3 are swapped: packet {} carries segment 3, {} ({} bytes), \
                 buffered out of order; packet {} is the server's duplicate ACK {}. Packet {} carries {}: \
                 {BRIDGE} bytes of the hole (same bytes as segment 2) then {BRIDGE} bytes \"YYYYYYYYYY\" over \
                 the buffered segment 3 ({}), which must be ignored. Packet {} (segment 2, {}) fills the \
                 rest of the hole.",
                d2 + 1,
                span(s3_seq, seg(&frames[d2]).payload.len(), isn),
                seg(&frames[d2]).payload.len(),
                d2 + 2,
                s2.seq,
                d3 + 1,
                span(s3_seq.wrapping_sub(BRIDGE as u32), 2 * BRIDGE, isn),
                span(s3_seq, BRIDGE, isn),
                late2 + 1,
                span(s2.seq, s2.payload.len(), isn),
            ),
        ],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn tcp_loss() -> Sample {
    let s = short_smtp("10.0.4.1:40004", "10.0.4.2:25");
    let mut flow = summary("SMTP", &s.conv);
    let isn = s.conv.isn_of(Dir::ClientToServer);
    let d = s.message_frames[1];
    let mut frames = s.conv.into_frames();
    let lost = seg(&frames[d]);
    let whole = flow.client_bytes;
    flow.client_bytes -= lost.payload.len() as u64;
    drop_frame(&mut frames, d);
    Sample {
        file_name: "tcp-loss.pcapng",
        description: format!(
            "A short ESMTP session in which the capture missed one client data segment that the \
             server did receive (its ACK is in the capture): client->server has one gap of {} bytes \
             inside the message.",
            lost.payload.len()
        ),
        flows: vec![flow],
        notes: vec![format!(
            "The missing segment would have been packet {}: client {} ({} bytes). Packet {} (the \
             server's ACK {}) acknowledges it. Without the gap the client stream would be {} bytes.",
            d + 1,
            span(lost.seq, lost.payload.len(), isn),
            lost.payload.len(),
            d + 1,
            lost.seq.wrapping_add(lost.payload.len() as u32),
            whole
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn tcp_wraparound() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    const CLIENT_ISN: u32 = 0xFFFF_FA00;
    const SERVER_ISN: u32 = 0xFFFF_FC00;
    let mut c = Conversation::new(addr("10.0.5.1:40005"), addr("10.0.5.2:25"), START_NANOS)
        .isn(CLIENT_ISN, SERVER_ISN);
    c.handshake();
    c.line(S, "220 mail.hamburger.edu ESMTP");
    c.line(C, "EHLO client.crepes.fr");
    c.server_sends(&crlf_lines(&[
        "250-mail.hamburger.edu",
        "250-EXPN",
        "250 8BITMIME",
    ]));
    // EXPN asks for the members of a mailing list (RFC 5321 section 3.5):
    // a long multi-line reply, so the server sends a few KB too.
    c.line(C, "EXPN picnic");
    let members: Vec<String> = (1..=50)
        .map(|i| {
            let sep = if i == 50 { ' ' } else { '-' };
            format!("250{sep}Picnic Member {i:02} <member{i:02}@hamburger.edu>")
        })
        .collect();
    let member_refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let expn_reply = crlf_lines(&member_refs);
    c.server_sends(&expn_reply);
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<picnic@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    c.line(C, "DATA");
    c.line(S, "354 End data with <CR><LF>.<CR><LF>");
    let mut message = crlf_lines(&[
        "From: alice@crepes.fr",
        "To: picnic@hamburger.edu",
        "Subject: Who brings what",
        "Message-ID: <20240304091500.4715@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "",
    ]);
    for i in 1..=50 {
        message.extend_from_slice(
            format!(
                "Member {i:02}: please bring {} crepes and one jar of jam.\r\n",
                2 + i % 5
            )
            .as_bytes(),
        );
    }
    message.extend_from_slice(b".\r\n");
    c.client_sends(&message);
    c.line(S, "250 2.0.0 Ok: queued as 4715");
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
    let flows = vec![summary("SMTP", &c)];
    // Stream offset at which each direction's sequence numbers wrap to 0:
    // the first data byte has number ISN + 1.
    let wrap_c = 0u32.wrapping_sub(CLIENT_ISN.wrapping_add(1));
    let wrap_s = 0u32.wrapping_sub(SERVER_ISN.wrapping_add(1));
    let frames = c.into_frames();
    // The data segments whose sequence range crosses 2^32.
    let straddling: Vec<String> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let s = seg(f);
            let end = s.seq.wrapping_add(s.payload.len() as u32);
            (!s.payload.is_empty() && end != 0 && end < s.seq).then(|| {
                format!(
                    "packet {} (seq {}..{}, {} bytes)",
                    i + 1,
                    s.seq,
                    end,
                    s.payload.len()
                )
            })
        })
        .collect();
    Sample {
        file_name: "tcp-wraparound.pcapng",
        description: format!(
            "An ESMTP session (with a {}-byte EXPN reply listing 50 members, and a {}-byte message \
             including its final \".\" line) whose initial sequence numbers are just below 2^32, so both \
             directions' sequence numbers wrap around to 0 in the middle of multi-segment writes.",
            expn_reply.len(),
            message.len()
        ),
        flows,
        notes: vec![format!(
            "Client ISN {CLIENT_ISN:#010x}: client seq wraps after {wrap_c} payload bytes. Server ISN \
             {SERVER_ISN:#010x}: server seq wraps after {wrap_s} payload bytes. Segments straddling the \
             wrap: {}.",
            straddling.join(", ")
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn tcp_midstream() -> Sample {
    let s = short_smtp("10.0.6.1:40006", "10.0.6.2:25");
    let mut flow = summary("SMTP", &s.conv);
    let (skip_c, skip_s) = s.before_mail;
    flow.client_bytes -= skip_c;
    flow.server_bytes -= skip_s;
    let first = s.mail_frame;
    let frames: Vec<Frame> = s.conv.into_frames().split_off(first);
    Sample {
        file_name: "tcp-midstream.pcapng",
        description: "A short ESMTP session captured from the middle: the capture starts with the client's \
                      MAIL FROM segment, after the handshake, the greeting and EHLO. There is no SYN, so \
                      client and server must be inferred (server port 25)."
            .into(),
        flows: vec![flow],
        notes: vec![format!(
            "The first {first} packets of the connection (handshake, 220 greeting, EHLO and its reply: {skip_c} \
             client bytes, {skip_s} server bytes) are not in the capture."
        )],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn tcp_rst() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut c = Conversation::new(addr("10.0.7.1:40007"), addr("10.0.7.2:25"), START_NANOS);
    c.handshake();
    c.line(S, "220 mail.hamburger.edu ESMTP");
    c.line(C, "EHLO client.crepes.fr");
    c.line(S, "250 mail.hamburger.edu");
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    c.pause(2_000_000_000);
    c.reset(C);
    let flows = vec![summary("SMTP", &c)];
    let frames = c.into_frames();
    Sample {
        file_name: "tcp-rst.pcapng",
        description:
            "An ESMTP session aborted by the client with a RST (RST+ACK) two seconds after RCPT TO \
                      was accepted, before DATA: no FIN, the transaction is incomplete."
                .into(),
        flows,
        notes: vec![format!("The RST is packet {}, the last one.", frames.len())],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}
