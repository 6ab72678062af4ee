//! The world of the textbook sessions (Kurose & Ross, "Computer Networking",
//! section 2.3): the hosts' names, Alice's message from crepes.fr, the two
//! messages waiting in Bob's mailbox at hamburger.edu (one with lines that
//! start with a dot), and Alice's crepe recipe, long enough to need more than
//! one TCP segment.

use std::net::IpAddr;

use super::toolkit::{crlf_lines, ip};

/// Name Resolution Block entries for the SMTP session: Alice's mail server
/// and Bob's.
pub fn crepes_names() -> Vec<(IpAddr, &'static str)> {
    vec![
        (ip("10.0.0.1"), "crepes.fr"),
        (ip("10.0.0.2"), "hamburger.edu"),
    ]
}

/// Name Resolution Block entries for Bob reading his mail: his PC and his
/// mail server.
pub fn bob_names() -> Vec<(IpAddr, &'static str)> {
    vec![
        (ip("10.0.0.3"), "bob-pc.hamburger.edu"),
        (ip("10.0.0.2"), "hamburger.edu"),
    ]
}

/// Alice's message as her mail client sends it (headers, blank line, body;
/// CRLF line ends; no terminating "." line).
pub fn crepes_message() -> Vec<u8> {
    crlf_lines(&[
        "From: alice@crepes.fr",
        "To: bob@hamburger.edu",
        "Subject: Searching for the meaning of life",
        "Message-ID: <20240304091500.4711@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "",
        "Do you like ketchup?",
        "How about pickles?",
    ])
}

/// Trace headers that hamburger.edu's mail server adds on delivery.
fn received_headers(id: u32, time: &str) -> Vec<u8> {
    crlf_lines(&[
        "Return-Path: <alice@crepes.fr>",
        "Received: from crepes.fr (crepes.fr [10.0.0.1])",
        &format!("        by hamburger.edu with SMTP id {id}"),
        &format!("        for <bob@hamburger.edu>; Mon, 04 Mar 2024 {time} +0000"),
    ])
}

/// Bob's first message in his mailbox: Alice's message as stored.
pub fn mailbox_message_1() -> Vec<u8> {
    let mut m = received_headers(4711, "09:15:00");
    m.extend_from_slice(&crepes_message());
    m
}

/// Bob's second message. Its body has lines starting with "." and a line
/// that is a single "."; POP3 and SMTP "dot-stuff" such lines (RFC 1939
/// section 3, RFC 5321 section 4.5.2) by doubling the dot.
pub fn mailbox_message_2() -> Vec<u8> {
    let mut m = received_headers(4712, "09:20:00");
    m.extend_from_slice(&crlf_lines(&[
        "From: alice@crepes.fr",
        "To: bob@hamburger.edu",
        "Subject: More about pickles",
        "Message-ID: <20240304092000.4712@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:20:00 +0100",
        "",
        "Bob,",
        "",
        "Here is the long version:",
        "(blah blah ...",
        ".........blah)",
        ".",
        "The line above this one is a single dot. It is part of the",
        "message: POP3 sends it as \"..\" so that nobody mistakes it",
        "for the end of the message.",
        "",
        "Alice",
    ]));
    m
}

/// A longer message (about 1.9 KB) whose IMAP literal spans two segments.
pub fn recipe_message() -> Vec<u8> {
    let mut m = received_headers(4713, "09:30:00");
    m.extend_from_slice(&crlf_lines(&[
        "From: Alice <alice@crepes.fr>",
        "To: Bob <bob@hamburger.edu>",
        "Subject: Crepes for the picnic",
        "Message-ID: <20240304093000.4713@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:30:00 +0100",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
    ]));
    m.extend_from_slice(&recipe_body());
    m
}

/// The body of the recipe message, also used by the short SMTP dialogue.
pub fn recipe_body() -> Vec<u8> {
    crlf_lines(&[
        "Bob,",
        "",
        "As promised, my grandmother's crepe recipe. It makes about",
        "twelve crepes, enough for the picnic if nobody is too hungry.",
        "",
        "Ingredients:",
        "  - 250 g plain flour",
        "  - 4 eggs",
        "  - 500 ml milk",
        "  - 50 g melted butter, plus a little for the pan",
        "  - 1 pinch of salt",
        "  - 1 tablespoon of sugar (leave it out for savoury crepes)",
        "",
        "Method:",
        "  1. Put the flour and the salt in a large bowl and make a well",
        "     in the middle.",
        "  2. Break the eggs into the well and start whisking, slowly",
        "     adding the milk so that no lumps form.",
        "  3. Stir in the melted butter and the sugar. The batter should",
        "     be as thin as single cream; add a little milk if it is not.",
        "  4. Let the batter rest for at least one hour. This is the step",
        "     everybody skips and the reason their crepes tear.",
        "  5. Heat a heavy pan over a medium flame and wipe it with a",
        "     little butter.",
        "  6. Pour in a small ladle of batter and tilt the pan at once so",
        "     that it covers the bottom in a thin layer.",
        "  7. After about a minute, when the edges turn golden, flip the",
        "     crepe and cook the other side for half a minute.",
        "",
        "Fillings: lemon and sugar, chestnut cream, or ham and cheese.",
        "No ketchup, please. And no pickles either.",
        "",
        "See you on Saturday,",
        "Alice",
    ])
}
