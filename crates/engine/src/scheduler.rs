//! The scheduler: one task per enabled flow job. A job never overlaps
//! itself (its task runs one run at a time), waits its interval with
//! jitter between runs, and wakes early for *Sync now*. Presses during a
//! run coalesce: `Notify` holds at most one permit, so any number of
//! presses while a run is going cause exactly one more run.

use crate::api::Inner;
use crate::flows::{run_flow, RunMode};
use chrono::Utc;
use ferry_journal::FlowRow;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// When jobs run on their own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// `None`: only when asked (*Sync now*).
    pub interval: Option<Duration>,
    /// Fraction of the interval added or removed at random, so that many
    /// Ferry installs do not hit an API in step.
    pub jitter: f64,
}

impl Schedule {
    pub fn every(interval: Duration) -> Self {
        Self { interval: Some(interval), jitter: 0.1 }
    }

    pub fn manual() -> Self {
        Self { interval: None, jitter: 0.0 }
    }

    /// The wait before the next run; `random` is in [0, 1).
    pub fn next_delay(&self, random: f64) -> Option<Duration> {
        self.interval.map(|i| i.mul_f64((1.0 + self.jitter * (2.0 * random - 1.0)).max(0.0)))
    }
}

struct Job {
    flow: FlowRow,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

pub(crate) struct Scheduler {
    jobs: Vec<Job>,
    watchdog: JoinHandle<()>,
}

/// How often the watchdog looks (see `health`).
const WATCH_EVERY: Duration = Duration::from_secs(300);

impl Scheduler {
    pub fn start(inner: Arc<Inner>, flows: Vec<FlowRow>, schedule: Schedule) -> Self {
        let jobs = flows
            .into_iter()
            .map(|flow| {
                let wake = Arc::new(Notify::new());
                let task = tokio::spawn(job_loop(inner.clone(), flow.clone(), wake.clone(), schedule));
                Job { flow, wake, task }
            })
            .collect();
        let watchdog = tokio::spawn(async move {
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                if let Err(e) = crate::health::check(&inner).await {
                    tracing::warn!("health check failed: {e}");
                }
            }
        });
        Self { jobs, watchdog }
    }

    /// Wakes the jobs that touch `connection_id` (all when `None`).
    pub fn trigger(&self, connection_id: Option<&str>) -> usize {
        let mut n = 0;
        for job in &self.jobs {
            let touches = connection_id.is_none_or(|id| job.flow.source_id == id || job.flow.target_id == id);
            if touches {
                job.wake.notify_one();
                n += 1;
            }
        }
        n
    }

    pub fn stop(self) {
        for job in self.jobs {
            job.task.abort();
        }
        self.watchdog.abort();
    }
}

async fn job_loop(inner: Arc<Inner>, flow: FlowRow, wake: Arc<Notify>, schedule: Schedule) {
    // Scheduled jobs run once at start; manual ones wait to be asked.
    let mut first = schedule.interval.is_some();
    loop {
        if !first {
            let delay = schedule.next_delay(fastrand::f64());
            let next_at = delay.and_then(|d| chrono::Duration::from_std(d).ok()).map(|d| Utc::now() + d);
            for id in [&flow.source_id, &flow.target_id] {
                inner.live.update(id, |l| l.next_run_at = next_at);
                if let Err(e) = inner.journal.set_next_run(id, next_at) {
                    tracing::warn!("cannot record the next run: {e}");
                }
            }
            inner.changed();
            match delay {
                Some(d) => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(d) => {}
                    }
                }
                None => wake.notified().await,
            }
        }
        first = false;
        if let Err(e) = run_flow(&inner, &flow, RunMode::Scheduled).await {
            tracing::error!(flow = %flow.flow, source = %flow.source_id, "run failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_its_band() {
        let s = Schedule { interval: Some(Duration::from_secs(100)), jitter: 0.1 };
        assert_eq!(s.next_delay(0.0), Some(Duration::from_secs(90)));
        assert_eq!(s.next_delay(0.5), Some(Duration::from_secs(100)));
        assert!(s.next_delay(0.999).is_some_and(|d| d < Duration::from_secs(110)));
        assert_eq!(Schedule::manual().next_delay(0.3), None, "manual jobs wait for Sync now");
    }
}
