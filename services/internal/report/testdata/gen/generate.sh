#!/bin/sh
# Regenerates the LibreOffice-made test fixtures of package report from the
# HTML sources in src/ and from ../html/cn-2021fmt-html-layout-sample.html.
#
# Needs (Debian bookworm): libreoffice-writer-nogui, fonts-noto-cjk,
# poppler-utils (pdftoppm, for the scanned page) and iconv. Tests do not:
# they read the committed outputs. LibreOffice output is not byte-for-byte
# reproducible (/CreationDate, /ID), so tests compare verdicts, never bytes.
#
#   sh services/internal/report/testdata/gen/generate.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
td=$(dirname "$here")
out="$td/generated"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp/home" # a throwaway LibreOffice profile
mkdir -p "$out" "$HOME"

convert() { # convert FORMAT FILE... (HTML imported as a Writer document)
	fmt=$1
	shift
	soffice --headless --norestore --infilter="HTML (StarWriter)" --convert-to "$fmt" --outdir "$tmp" "$@" >/dev/null
}

cp "$here/src/huaian-2024.html" "$tmp/lo-huaian-2024.html"
cp "$td/html/cn-2021fmt-html-layout-sample.html" "$tmp/lo-sample-2025.html"
cp "$here/src/notice-2024.html" "$tmp/notice-2024.html"

# A scanned report: page 1 of the Hongze PDF as a grey JPEG, no text layer.
pdftoppm -r 40 -gray -png -f 1 -l 1 "$td/pdf/cn-huaian-hongze-2024.pdf" "$tmp/scanpage"
cat >"$tmp/scan-2024.html" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head>
<body><p><img src="scanpage-1.png" width="595" height="842"></p></body></html>
HTML

convert pdf:writer_pdf_Export "$tmp/lo-huaian-2024.html" "$tmp/lo-sample-2025.html" "$tmp/notice-2024.html" "$tmp/scan-2024.html"
convert "docx:MS Word 2007 XML" "$tmp/lo-huaian-2024.html" "$tmp/lo-sample-2025.html"
for f in lo-huaian-2024.pdf lo-huaian-2024.docx lo-sample-2025.pdf lo-sample-2025.docx notice-2024.pdf scan-2024.pdf; do
	cp "$tmp/$f" "$out/$f"
done

# The HTML sample in GBK: declared in a meta tag, and with no declaration at
# all (the reader must sniff it).
sed 's/charset="utf-8"/charset="gb2312"/' "$td/html/cn-2021fmt-html-layout-sample.html" |
	iconv -f UTF-8 -t GBK >"$td/html/gbk-meta-2025.html"
sed 's/<meta charset="utf-8">//' "$td/html/cn-2021fmt-html-layout-sample.html" |
	iconv -f UTF-8 -t GBK >"$td/html/gbk-nometa-2025.html"

ls -l "$out" "$td/html"
