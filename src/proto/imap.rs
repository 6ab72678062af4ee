//! imap dialogue parser (placeholder until the real one lands: shows lines only).
use super::MailParser;
use crate::flow::Direction;
use crate::trace::Dialogue;
#[derive(Default)]
pub struct ImapParser;
impl ImapParser {
    pub fn new() -> Self {
        ImapParser
    }
}
impl MailParser for ImapParser {
    fn feed(&mut self, _: Direction, _: &[u8], _: &mut Dialogue) {}
    fn gap(&mut self, _: Direction, _: u64, _: &mut Dialogue) {}
    fn finish(&mut self, _: &mut Dialogue) {}
    fn upgraded_to_tls(&self) -> bool {
        false
    }
}
