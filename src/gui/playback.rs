//! The playhead: where in capture time the window is, and how it moves.
//!
//! Captures are uneven. On loopback a relay hop takes a millisecond while
//! a user agent pauses for 150 ms between commands; a real capture may
//! sit idle for minutes. So there are two clocks:
//!
//! * **Event pace** (the default): every packet gets the same share of
//!   wall time, like Packet Tracer's simulation mode. Bursts become
//!   readable and idle stretches vanish; the order of events is exact.
//! * **Capture time**: time as recorded, scaled by the speed; stretches
//!   with nothing on the wire longer than a second of wall time are
//!   skipped.
//!
//! Either way the playhead is kept in capture seconds (`t`), so every
//! panel asks the same question: "what had happened by `t`?".

/// Which clock drives the playhead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    Paced,
    Capture,
}

/// Packets per wall second in [`Clock::Paced`] at speed 1.
pub const PACED_RATE: f64 = 3.0;
/// Wall seconds a packet takes to cross its edge in [`Clock::Capture`].
pub const CAPTURE_TRAVEL: f64 = 0.6;

/// The playhead and its clock.
#[derive(Clone, Debug)]
pub struct Playback {
    /// Capture seconds since the first packet.
    pub t: f64,
    pub playing: bool,
    pub clock: Clock,
    /// Multiplies the clock's rate (0.05 … 50).
    pub speed: f64,
    /// Live: the capture is still growing, so reaching its end does not
    /// stop the playhead; it waits there for more.
    pub follow: bool,
    /// Times of the events that move on the wire (packets, DNS), sorted.
    times: Vec<f64>,
    duration: f64,
}

impl Playback {
    /// A playhead at 0 over events at `times` (need not be sorted).
    pub fn new(mut times: Vec<f64>, duration: f64) -> Self {
        times.sort_by(f64::total_cmp);
        Playback {
            t: 0.0,
            playing: false,
            clock: Clock::Paced,
            speed: 1.0,
            follow: false,
            times,
            duration: duration.max(0.0),
        }
    }

    pub fn duration(&self) -> f64 {
        self.duration
    }

    pub fn at_end(&self) -> bool {
        self.t >= self.duration
    }

    /// Moves the playhead to `t` (clamped to the capture).
    pub fn seek(&mut self, t: f64) {
        self.t = t.clamp(0.0, self.duration);
    }

    /// Starts playing (from the start again when at the end).
    pub fn play(&mut self) {
        if self.at_end() {
            self.t = 0.0;
        }
        self.playing = true;
    }

    /// Advances by `wall` seconds of real time when playing; stops at the
    /// end. Returns whether the playhead moved.
    pub fn advance(&mut self, wall: f64) -> bool {
        if !self.playing || wall <= 0.0 {
            return false;
        }
        let before = self.t;
        match self.clock {
            Clock::Paced => {
                let v = self.virtual_of(self.t) + wall * PACED_RATE * self.speed;
                self.t = self.time_of(v);
            }
            Clock::Capture => {
                let mut t = self.t + wall * self.speed;
                // Skip what would be more than a second of nothing.
                let next = self.times.partition_point(|&x| x <= self.t);
                if let Some(&n) = self.times.get(next)
                    && n - self.t > self.speed
                {
                    t = t.max(n - CAPTURE_TRAVEL * self.speed);
                }
                self.t = t;
            }
        }
        if self.t >= self.duration {
            self.t = self.duration;
            self.playing = self.follow;
        }
        self.t != before
    }

    /// The event position of capture time `t`: 0 at the first event, 1 at
    /// the second, fractional in between.
    pub fn virtual_of(&self, t: f64) -> f64 {
        let n = self.times.len();
        if n == 0 {
            return t;
        }
        let i = self.times.partition_point(|&x| x <= t);
        if i == 0 {
            // Before the first event: one virtual unit of lead-in.
            let first = self.times[0];
            return if first > 0.0 { (t / first) - 1.0 } else { -1.0 };
        }
        if i == n {
            return (n - 1) as f64;
        }
        let (a, b) = (self.times[i - 1], self.times[i]);
        let frac = if b > a { (t - a) / (b - a) } else { 0.0 };
        (i - 1) as f64 + frac
    }

    /// The capture time of event position `v` (inverse of
    /// [`virtual_of`](Self::virtual_of)).
    pub fn time_of(&self, v: f64) -> f64 {
        let n = self.times.len();
        if n == 0 {
            return v;
        }
        if v < 0.0 {
            return ((v + 1.0).max(0.0)) * self.times[0];
        }
        let i = v.floor() as usize;
        if i + 1 >= n {
            return if v > (n - 1) as f64 {
                self.duration
            } else {
                self.times[n - 1]
            };
        }
        let (a, b) = (self.times[i], self.times[i + 1]);
        a + (v - i as f64) * (b - a)
    }

    /// How far along its edge a packet seen at `t_event` is at the
    /// playhead: 0 when it leaves, 1 when it arrives (at `t_event`);
    /// None when it is not on the way.
    pub fn in_flight(&self, t_event: f64) -> Option<f32> {
        let remaining = match self.clock {
            Clock::Paced => self.virtual_of(t_event) - self.virtual_of(self.t),
            Clock::Capture => (t_event - self.t) / (CAPTURE_TRAVEL * self.speed),
        };
        (0.0..1.0)
            .contains(&remaining)
            .then_some((1.0 - remaining) as f32)
    }

    /// Where a message carried by packets arriving from `t_first` to
    /// `t_last` is: `Err(false)` before its first packet leaves, a fraction
    /// of the way while its packets are on the wire, `Err(true)` once the
    /// last one arrived.
    pub fn carried(&self, t_first: f64, t_last: f64) -> Result<f32, bool> {
        let (depart, arrive, now) = match self.clock {
            Clock::Paced => (
                self.virtual_of(t_first) - 1.0,
                self.virtual_of(t_last),
                self.virtual_of(self.t),
            ),
            Clock::Capture => (t_first - CAPTURE_TRAVEL * self.speed, t_last, self.t),
        };
        if now < depart {
            Err(false)
        } else if now >= arrive {
            Err(true)
        } else {
            Ok(((now - depart) / (arrive - depart).max(1e-12)) as f32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paced_clock_gives_each_packet_the_same_time() {
        // A burst (1.000, 1.001) and a long pause (1.001 → 9.0).
        let mut p = Playback::new(vec![0.0, 1.0, 1.001, 9.0], 9.0);
        p.play();
        p.advance(1.0 / PACED_RATE);
        assert!((p.t - 1.0).abs() < 1e-9, "{}", p.t);
        p.advance(1.0 / PACED_RATE);
        assert!((p.t - 1.001).abs() < 1e-9, "{}", p.t);
        p.advance(0.5 / PACED_RATE);
        assert!((p.t - (1.001 + 0.5 * 7.999)).abs() < 1e-9, "{}", p.t);
        p.advance(10.0);
        assert_eq!(p.t, 9.0);
        assert!(!p.playing, "stops at the end");
    }

    #[test]
    fn virtual_and_capture_time_are_inverse() {
        let p = Playback::new(vec![0.5, 0.7, 3.0], 3.0);
        for t in [0.0, 0.25, 0.5, 0.6, 0.7, 2.0, 3.0] {
            let v = p.virtual_of(t);
            assert!((p.time_of(v) - t).abs() < 1e-9, "t {t} v {v}");
        }
        assert_eq!(p.virtual_of(0.7), 1.0);
    }

    #[test]
    fn capture_clock_skips_idle_stretches() {
        let mut p = Playback::new(vec![0.0, 100.0], 100.0);
        p.clock = Clock::Capture;
        p.play();
        p.advance(0.1);
        // 100 s of nothing: the playhead jumps to just before the packet.
        assert!((p.t - (100.0 - CAPTURE_TRAVEL)).abs() < 1e-9, "{}", p.t);
    }

    #[test]
    fn packets_fly_for_one_event_before_they_arrive() {
        let mut p = Playback::new(vec![0.0, 1.0, 2.0], 2.0);
        p.seek(0.5);
        assert_eq!(p.in_flight(1.0), Some(0.5));
        assert_eq!(p.in_flight(2.0), None);
        assert_eq!(p.in_flight(0.0), None, "already arrived");
        // A message in the packets arriving at 1.0 and 2.0 leaves at 0.0
        // (one event before its first packet) and is a quarter of the way.
        assert_eq!(p.carried(1.0, 2.0), Ok(0.25));
        assert_eq!(p.carried(2.0, 2.0), Err(false));
        p.seek(2.0);
        assert_eq!(p.carried(1.0, 2.0), Err(true));
    }
}
