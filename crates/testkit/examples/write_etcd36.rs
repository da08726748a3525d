//! Writes the 3.6-style fixture files of `etcdsnap_testkit::rewrite::etcd36_cases` into a
//! directory, for `fixtures/versions/record-etcd36.sh` to run real etcd 3.5.1 tools on them.

fn main() {
    let dir = std::env::args_os().nth(1).expect("usage: write_etcd36 DIR");
    for (name, path) in etcdsnap_testkit::rewrite::etcd36_cases(std::path::Path::new(&dir)) {
        println!("{name}\t{}", path.display());
    }
}
