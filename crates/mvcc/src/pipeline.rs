//! Ordered parallel work for the writers: batches of items prepared on worker threads and
//! handed to one consumer in their original order.
//!
//! Output that is expensive to produce but must come out in key order (`get -w json`'s base64,
//! `kube get`'s rendered objects, `export`'s rows) is a pipeline, not a fork-join: workers
//! take batches in turn and prepare them while this thread writes the ones already done, so
//! neither side waits for a whole round (a fork-join per batch left the writer and the workers
//! idle in turn, and was no faster than one thread). A worker claims a batch only within
//! `2 * threads` of the one the writer waits for, so at most that many prepared batches exist
//! at once (in the channel or the reorder buffer), whatever the input and however slow one
//! batch is.
//! When `sink` fails (a closed pipe), the receiver is dropped, the workers' next send fails and
//! they stop.

use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Condvar, Mutex};

/// Calls `prepare` on each batch of `batch` consecutive items of `items` on up to `threads`
/// threads and `sink` on the results in order. One thread (or one batch) runs inline.
pub fn ordered<T, R, E, P, S>(
    items: &[T],
    batch: usize,
    threads: usize,
    prepare: P,
    sink: S,
) -> Result<(), E>
where
    T: Sync,
    R: Send,
    P: Fn(&[T]) -> R + Sync,
    S: FnMut(R) -> Result<(), E>,
{
    let batches = items.chunks(batch.max(1));
    let threads = threads.min(batches.len());
    ordered_iter(batches, 1, threads, |b| prepare(b[0]), sink)
}

/// [`ordered`] over an iterator: the workers take the next `batch` items from `items` in
/// turn (under a lock, so `items` is read once, in order) and prepare them; `sink` gets the
/// results in order on this thread. The same workers serve the whole input.
pub fn ordered_iter<I, R, E, P, S>(
    items: I,
    batch: usize,
    threads: usize,
    prepare: P,
    mut sink: S,
) -> Result<(), E>
where
    I: Iterator + Send,
    I::Item: Send,
    R: Send,
    P: Fn(Vec<I::Item>) -> R + Sync,
    S: FnMut(R) -> Result<(), E>,
{
    let batch = batch.max(1);
    let threads = threads.clamp(1, 16);
    if threads == 1 {
        let mut items = items;
        loop {
            let b: Vec<I::Item> = items.by_ref().take(batch).collect();
            if b.is_empty() {
                return Ok(());
            }
            sink(prepare(b))?;
        }
    }
    // Batches are claimed at most WINDOW ahead of the one the consumer waits for, so the
    // batches prepared but not yet consumed stay bounded whatever the speed of each worker.
    let window = 2 * threads;
    let feed = Mutex::new(Feed {
        items,
        next: 0,
        consumed: 0,
        stopped: false,
    });
    let turn = Condvar::new();
    let (tx, rx) = sync_channel::<(usize, R)>(window);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (feed, turn, prepare) = (&feed, &turn, &prepare);
            s.spawn(move || {
                loop {
                    let (i, b) = {
                        let Ok(mut f) = feed.lock() else { break };
                        while !f.stopped && f.next >= f.consumed + window {
                            let Ok(g) = turn.wait(f) else { return };
                            f = g;
                        }
                        if f.stopped {
                            break;
                        }
                        let b: Vec<I::Item> = f.items.by_ref().take(batch).collect();
                        f.next += 1;
                        (f.next - 1, b)
                    };
                    if b.is_empty() || tx.send((i, prepare(b))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut consume = || {
            let mut ahead = BTreeMap::new();
            let mut want = 0;
            for (i, out) in rx.iter() {
                ahead.insert(i, out);
                while let Some(out) = ahead.remove(&want) {
                    want += 1;
                    sink(out)?;
                    if let Ok(mut f) = feed.lock() {
                        f.consumed = want;
                    }
                    turn.notify_all();
                }
            }
            Ok(())
        };
        let done = consume();
        // On an error (a closed pipe) the workers waiting for their turn are released, and
        // the receiver is dropped, so a worker's next send fails: the scope can join them.
        if let Ok(mut f) = feed.lock() {
            f.stopped = true;
        }
        turn.notify_all();
        drop(rx);
        done
    })
}

/// The input of [`ordered_iter`] and where the workers stand in it.
struct Feed<I> {
    items: I,
    /// The number of the next batch to claim.
    next: usize,
    /// Batches handed to the consumer so far.
    consumed: usize,
    /// The consumer stopped (an error): claim nothing more.
    stopped: bool,
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
                        Ok::<(), ()>(())
                    },
                )
                .unwrap();
                let want: Vec<u32> = items.iter().map(|x| x * 2).collect();
                assert_eq!(got, want, "threads {threads} batch {batch}");
            }
        }
    }

    #[test]
    fn an_iterator_is_read_once_in_order() {
        for threads in [1, 2, 5] {
            let mut got = Vec::new();
            super::ordered_iter(
                (0..5_003u32).map(|x| x + 1),
                64,
                threads,
                |b: Vec<u32>| b.iter().sum::<u32>(),
                |v| {
                    got.push(v);
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
            let want: Vec<u32> = (1..=5_003u32)
                .collect::<Vec<_>>()
                .chunks(64)
                .map(|c| c.iter().sum())
                .collect();
            assert_eq!(got, want, "threads {threads}");
        }
    }

    #[test]
    fn a_slow_batch_does_not_let_the_others_run_ahead() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let prepared = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut consumed = 0usize;
        let threads = 2;
        super::ordered_iter(
            0..2_000u32,
            1,
            threads,
            |b: Vec<u32>| {
                if b[0] == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                prepared.fetch_add(1, Ordering::SeqCst);
                b[0]
            },
            |_| {
                let ahead = prepared.load(Ordering::SeqCst) - consumed;
                most.fetch_max(ahead, Ordering::SeqCst);
                consumed += 1;
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(consumed, 2_000);
        assert!(
            most.load(Ordering::SeqCst) <= 2 * threads,
            "{} batches prepared ahead of the writer",
            most.load(Ordering::SeqCst)
        );
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
        ordered(&items, 4, 2, |_| unreachable!(), |_: ()| Err::<(), ()>(())).unwrap();
    }
}
