#!/usr/bin/env bash
# The report in a real browser: Debian's headless Chromium renders the page of fixture
# snapshots at desktop and phone widths, in light and dark mode, and prints it to PDF; each
# screenshot must not be blank (python3-pil counts its colours and the share of pixels that are
# not background), the dark one must be dark and the light one light, the PDF must exist.
# Usage: .ci/report-browser.sh [OUT_DIR]   (called by .ci/run; needs root for apt-get)
# REPORT_EXAMPLE=docs/report-example.png also writes the README's picture there.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-$(mktemp -d)}"
mkdir -p "$out"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import PIL' 2>/dev/null || need+=(python3 python3-pil)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
if [ "${#need[@]}" -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== build"
cargo build -q --locked -p etcdsnap
bin=$(realpath target/debug/etcdsnap)

# Two corpus snapshots of one Kubernetes-like store (etcd 3.5.1), and one of our own.
tar -I zstd -xf fixtures/corpus/dbs.tar.zst -C "$out" h2a.db h2b.db h5-k8s.db
(cd "$out" && "$bin" report h2b.db --compare h2a.db -o h2b.html --force)
"$bin" report "$out/h5-k8s.db" -o "$out/h5.html" --force
"$bin" report fixtures/own/own-35-member.db -o "$out/own.html" --force

shot() { # html width height png [extra chromium flags]
  local html=$1 w=$2 h=$3 png=$4; shift 4
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$(mktemp -d)" --window-size="$w,$h" "$@" \
    --screenshot="$png" "file://$(realpath "$html")" >/dev/null 2>&1
  [ -s "$png" ] || { echo "no screenshot $png"; exit 1; }
}

echo "== render"
for page in h2b h5 own; do
  shot "$out/$page.html" 1280 2000 "$out/$page-desktop.png"
  shot "$out/$page.html" 390 2000 "$out/$page-phone.png"
done
shot "$out/h2b.html" 1280 2000 "$out/h2b-dark.png" --force-dark-mode
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d)" --no-pdf-header-footer --print-to-pdf="$out/h2b.pdf" \
  "file://$(realpath "$out/h2b.html")" >/dev/null 2>&1
[ "$(stat -c %s "$out/h2b.pdf")" -gt 20000 ] || { echo "PDF too small"; exit 1; }

echo "== check"
/usr/bin/python3 - "$out" <<'PY'
import sys
from PIL import Image
out = sys.argv[1]
fail = 0
def look(name):
    im = Image.open(f"{out}/{name}").convert("RGB")
    w, h = im.size
    small = im.resize((w // 2, h // 2))
    colours = small.getcolors(1 << 24)
    bg = max(colours)[1]
    total = sum(n for n, _ in colours)
    other = sum(n for n, c in colours if sum(abs(a - b) for a, b in zip(c, bg)) > 30)
    lum = sum(n * (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) for n, c in colours) / total
    return len(colours), other / total, lum, bg
for page in ["h2b", "h5", "own"]:
    for kind in ["desktop", "phone"]:
        n, share, lum, bg = look(f"{page}-{kind}.png")
        ok = n >= 200 and share >= 0.05 and lum > 150
        fail |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {page}-{kind}.png: {n} colours, {share:.1%} not background {bg}, mean luminance {lum:.0f}")
n, share, lum, bg = look("h2b-dark.png")
ok = n >= 200 and share >= 0.05 and lum < 110
fail |= not ok
print(f"{'ok  ' if ok else 'FAIL'} h2b-dark.png: {n} colours, {share:.1%} not background {bg}, mean luminance {lum:.0f} (dark mode)")
sys.exit(1 if fail else 0)
PY

if [ -n "${REPORT_EXAMPLE:-}" ]; then
  # The README's picture: the top of the desktop rendering, in 256 colours to stay small.
  /usr/bin/python3 - "$out/h2b-desktop.png" "$REPORT_EXAMPLE" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
im = im.crop((0, 0, im.width, min(im.height, 1500)))
im.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(sys.argv[2], optimize=True)
PY
  echo "wrote $REPORT_EXAMPLE ($(stat -c %s "$REPORT_EXAMPLE") bytes)"
fi
echo "report-browser: 1 passed, 0 failed"
