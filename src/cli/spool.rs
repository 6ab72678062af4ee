//! Output that must wait for a header known only at the end.
//!
//! `analyze --json` starts with the `capture` record, whose packet counts
//! are known only once the whole capture was read, yet the per-flow records
//! must not pile up in memory on a huge capture. They go to a spool: memory
//! up to a limit, then an unlinked temporary file, copied out at the end.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

const IN_MEMORY: usize = 16 << 20;

pub struct Spool {
    memory: Vec<u8>,
    file: Option<File>,
}

impl Spool {
    pub fn new() -> Self {
        Spool {
            memory: Vec::new(),
            file: None,
        }
    }

    /// Copies everything spooled to `out`.
    pub fn copy_to(mut self, out: &mut impl Write) -> io::Result<()> {
        match self.file.take() {
            None => out.write_all(&self.memory),
            Some(mut f) => {
                f.write_all(&self.memory)?;
                f.seek(SeekFrom::Start(0))?;
                let mut buf = vec![0; 1 << 20];
                loop {
                    let n = f.read(&mut buf)?;
                    if n == 0 {
                        return Ok(());
                    }
                    out.write_all(&buf[..n])?;
                }
            }
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            let dir = std::env::temp_dir();
            let path = dir.join(format!(
                "mailscope-spool-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            ));
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)?;
            // Unlinked at once: the file vanishes with the process, even on
            // a crash.
            std::fs::remove_file(&path)?;
            self.file = Some(f);
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(&self.memory)?;
        }
        self.memory.clear();
        Ok(())
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.memory.extend_from_slice(buf);
        if self.memory.len() >= IN_MEMORY {
            self.spill()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_disk_and_copies_back_in_order() {
        let mut s = Spool::new();
        let chunk = vec![b'x'; IN_MEMORY / 3 + 1];
        for i in 0..4u8 {
            let mut c = chunk.clone();
            c[0] = i;
            s.write_all(&c).unwrap();
        }
        assert!(s.file.is_some());
        let mut out = Vec::new();
        s.copy_to(&mut out).unwrap();
        assert_eq!(out.len(), 4 * chunk.len());
        for i in 0..4 {
            assert_eq!(out[i * chunk.len()], i as u8);
        }
    }
}
