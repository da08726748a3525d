//! Ordered parallel work for the writers: batches of items prepared on worker threads and
//! handed to one consumer in their original order.
//!
//! Output that is expensive to produce but must come out in key order (`get -w json`'s base64,
//! `kube get`'s rendered objects, `export`'s rows) is a pipeline, not a fork-join: workers take batches in turn
//! and prepare them while this thread writes the ones already done, so neither side waits for
//! a whole round (a fork-join per batch left the writer and the workers idle in turn, and was
//! no faster than one thread). At most `2 * threads` prepared batches exist at once: a worker
//! blocks when the channel is full, and the reorder buffer holds only batches claimed ahead of
//! the one the writer waits for, so memory stays bounded by a few batches whatever the input.
//! When `sink` fails (a closed pipe), the receiver is dropped, the workers' next send fails and
//! they stop.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc::sync_channel;

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
    // The input and the number of the next batch taken from it.
    let feed = Mutex::new((items, 0usize));
    let (tx, rx) = sync_channel::<(usize, R)>(threads);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (feed, prepare) = (&feed, &prepare);
            s.spawn(move || {
                loop {
                    let (i, b) = {
                        let Ok(mut f) = feed.lock() else { break };
                        let b: Vec<I::Item> = f.0.by_ref().take(batch).collect();
                        f.1 += 1;
                        (f.1 - 1, b)
                    };
                    if b.is_empty() || tx.send((i, prepare(b))).is_err() {
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
