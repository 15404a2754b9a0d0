//! Limits on one HTTP transfer, so that no server can hold a run forever:
//! [`TransferLimits`] (a deadline and a minimum rate, from the environment,
//! as cargo's `http.timeout` and `http.low-speed-limit`) and [`Pace`], the
//! clock that [`super::http`] advances after each read of a body.

use std::time::{Duration, Instant};

use super::source::FetchError;

/// Longest wait for the answer's headers and then for each read of its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one transfer (request, headers and body) may take, and how
/// slow it may be, as cargo's `http.timeout` and `http.low-speed-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferLimits {
    /// The whole transfer's deadline (`OENT_HTTP_TIMEOUT`, seconds).
    pub deadline: Duration,
    /// The slowest average rate accepted over `low_speed_time`, in bytes
    /// per second (`OENT_HTTP_LOW_SPEED_LIMIT`); 0: no minimum.
    pub low_speed_limit: u64,
    /// The window over which the rate is measured (`OENT_HTTP_LOW_SPEED_TIME`, seconds).
    pub low_speed_time: Duration,
}

pub const TIMEOUT_ENV: &str = "OENT_HTTP_TIMEOUT";
pub const LOW_SPEED_LIMIT_ENV: &str = "OENT_HTTP_LOW_SPEED_LIMIT";
pub const LOW_SPEED_TIME_ENV: &str = "OENT_HTTP_LOW_SPEED_TIME";

impl Default for TransferLimits {
    /// 5 minutes for one file (archives are configuration and templates:
    /// megabytes at most), and at least 10 bytes/s over 30 s, as cargo.
    fn default() -> Self {
        TransferLimits {
            deadline: Duration::from_secs(300),
            low_speed_limit: 10,
            low_speed_time: Duration::from_secs(30),
        }
    }
}

impl TransferLimits {
    /// The defaults, overridden by the environment variables that are set.
    pub fn from_env() -> Result<TransferLimits, FetchError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<TransferLimits, FetchError> {
        let number = |name: &'static str, expected: &'static str, min: u64| {
            var(name)
                .map(|value| match value.trim().parse::<u64>() {
                    Ok(n) if n >= min => Ok(n),
                    _ => Err(FetchError::BadSetting {
                        name,
                        value,
                        expected,
                    }),
                })
                .transpose()
        };
        let seconds = "a number of seconds (a whole number, at least 1)";
        let mut limits = TransferLimits::default();
        if let Some(n) = number(TIMEOUT_ENV, seconds, 1)? {
            limits.deadline = Duration::from_secs(n);
        }
        if let Some(n) = number(
            LOW_SPEED_LIMIT_ENV,
            "a number of bytes per second (a whole number; 0 for no minimum)",
            0,
        )? {
            limits.low_speed_limit = n;
        }
        if let Some(n) = number(LOW_SPEED_TIME_ENV, seconds, 1)? {
            limits.low_speed_time = Duration::from_secs(n);
        }
        Ok(limits)
    }

    /// The longest a single read may wait: a read that brings nothing for
    /// the rate's whole window, or past the deadline, is already a failure.
    pub(crate) fn read_timeout(&self) -> Duration {
        let mut timeout = READ_TIMEOUT.min(self.deadline);
        if self.low_speed_limit > 0 {
            timeout = timeout.min(self.low_speed_time);
        }
        timeout
    }
}

/// The clock of one transfer: its deadline, and its rate over the current window.
pub(crate) struct Pace<'a> {
    limits: &'a TransferLimits,
    pub(crate) url: &'a str,
    started: Instant,
    window_started: Instant,
    window_bytes: u64,
}

impl<'a> Pace<'a> {
    pub(crate) fn start(limits: &'a TransferLimits, url: &'a str) -> Pace<'a> {
        let now = Instant::now();
        Pace {
            limits,
            url,
            started: now,
            window_started: now,
            window_bytes: 0,
        }
    }

    /// Counts `n` more bytes (0 after a wait that brought nothing) and
    /// checks the deadline and, once a window has passed, the rate.
    pub(crate) fn advance(&mut self, n: u64) -> Result<(), FetchError> {
        let now = Instant::now();
        let limits = self.limits;
        if now.duration_since(self.started) > limits.deadline {
            return Err(self.too_slow(
                format!("took longer than {} s", limits.deadline.as_secs()),
                format!("raise {TIMEOUT_ENV} (seconds) if the link is just slow"),
            ));
        }
        self.window_bytes += n;
        let window = now.duration_since(self.window_started);
        if limits.low_speed_limit > 0 && window >= limits.low_speed_time {
            let rate = self.window_bytes as f64 / window.as_secs_f64();
            if rate < limits.low_speed_limit as f64 {
                return Err(self.too_slow(
                    format!(
                        "was slower than {} bytes/s for {} s",
                        limits.low_speed_limit,
                        limits.low_speed_time.as_secs()
                    ),
                    format!(
                        "raise {LOW_SPEED_TIME_ENV} or lower {LOW_SPEED_LIMIT_ENV} (0 turns the minimum off) if the link is just slow"
                    ),
                ));
            }
            self.window_started = now;
            self.window_bytes = 0;
        }
        Ok(())
    }

    fn too_slow(&self, what: String, help: String) -> FetchError {
        FetchError::TooSlow {
            url: self.url.to_owned(),
            what,
            help,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_limits_come_from_the_environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            TransferLimits::from_vars(vars(&[])).unwrap(),
            TransferLimits::default()
        );
        let set = TransferLimits::from_vars(vars(&[
            (TIMEOUT_ENV, "7"),
            (LOW_SPEED_LIMIT_ENV, "0"),
            (LOW_SPEED_TIME_ENV, " 3 "),
        ]))
        .unwrap();
        assert_eq!(
            set,
            TransferLimits {
                deadline: Duration::from_secs(7),
                low_speed_limit: 0,
                low_speed_time: Duration::from_secs(3),
            }
        );
        // Without a minimum rate, a read may wait up to the deadline.
        assert_eq!(set.read_timeout(), Duration::from_secs(7));
        for (name, value) in [
            (TIMEOUT_ENV, "0"),
            (TIMEOUT_ENV, "1.5"),
            (LOW_SPEED_LIMIT_ENV, "-1"),
            (LOW_SPEED_TIME_ENV, ""),
        ] {
            let err = TransferLimits::from_vars(|n| (n == name).then(|| value.to_owned()));
            assert!(
                matches!(err, Err(FetchError::BadSetting { name: n, .. }) if n == name),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn a_transfer_without_bytes_for_a_whole_window_is_too_slow() {
        let limits = TransferLimits {
            deadline: Duration::from_secs(60),
            low_speed_limit: 1,
            low_speed_time: Duration::from_millis(1),
        };
        let mut pace = Pace::start(&limits, "http://r/a");
        std::thread::sleep(Duration::from_millis(5));
        let err = pace.advance(0).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("http://r/a: the transfer was slower than 1 bytes/s"),
            "{err}"
        );
    }
}
