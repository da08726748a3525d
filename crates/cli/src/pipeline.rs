//! Ordered parallel work for the writers: batches of items prepared on worker threads and
//! handed to one writer in their original order.
//!
//! Output that is expensive to produce but must come out in key order (`get -w json`'s base64,
//! `kube get`'s rendered objects) is a pipeline, not a fork-join: workers take batches in turn
//! and prepare them while this thread writes the ones already done, so neither side waits for
//! a whole round (a fork-join per batch left the writer and the workers idle in turn, and was
//! no faster than one thread). At most `2 * threads` prepared batches exist at once: a worker
//! blocks when the channel is full, and the reorder buffer holds only batches claimed ahead of
//! the one the writer waits for, so memory stays bounded by a few batches whatever the input.
//! When `sink` fails (a closed pipe), the receiver is dropped, the workers' next send fails and
//! they stop.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

/// Calls `prepare` on each batch of `batch` consecutive items of `items` on up to `threads`
/// threads and `sink` on the results in order. One thread (or one batch) runs inline.
pub fn ordered<T, R, P, S>(
    items: &[T],
    batch: usize,
    threads: usize,
    prepare: P,
    mut sink: S,
) -> std::io::Result<()>
where
    T: Sync,
    R: Send,
    P: Fn(&[T]) -> R + Sync,
    S: FnMut(R) -> std::io::Result<()>,
{
    let batches: Vec<&[T]> = items.chunks(batch.max(1)).collect();
    let threads = threads.clamp(1, 16).min(batches.len());
    if threads <= 1 || batches.len() < 2 {
        for b in batches {
            sink(prepare(b))?;
        }
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = sync_channel::<(usize, R)>(threads);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, batches, prepare) = (&next, &batches, &prepare);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(b) = batches.get(i) else { break };
                    if tx.send((i, prepare(b))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Owned here so that an early return drops it before the scope joins the workers.
        let rx = rx;
        let mut ahead = BTreeMap::new();
        let mut want = 0;
        for (i, out) in rx.iter() {
            ahead.insert(i, out);
            while let Some(out) = ahead.remove(&want) {
                want += 1;
                sink(out)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::ordered;

    #[test]
    fn keeps_order_on_any_thread_count() {
        let items: Vec<u32> = (0..10_007).collect();
        for threads in [1, 2, 3, 8] {
            for batch in [1, 7, 256, 20_000] {
                let mut got = Vec::new();
                ordered(
                    &items,
                    batch,
                    threads,
                    |b| b.iter().map(|x| x * 2).collect::<Vec<_>>(),
                    |v| {
                        got.extend(v);
                        Ok(())
                    },
                )
                .unwrap();
                let want: Vec<u32> = items.iter().map(|x| x * 2).collect();
                assert_eq!(got, want, "threads {threads} batch {batch}");
            }
        }
    }

    #[test]
    fn a_failing_sink_stops_the_workers() {
        let items: Vec<u32> = (0..100_000).collect();
        let mut calls = 0;
        let r = ordered(
            &items,
            10,
            2,
            |b| b.len(),
            |_| {
                calls += 1;
                if calls == 3 {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::BrokenPipe,
                        "closed",
                    ))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
        assert_eq!(calls, 3);
    }

    #[test]
    fn empty_input_calls_nothing() {
        let items: Vec<u32> = Vec::new();
        ordered(&items, 4, 2, |_| unreachable!(), |_: ()| unreachable!()).unwrap();
    }
}
