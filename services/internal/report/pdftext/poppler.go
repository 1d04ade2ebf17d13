package pdftext

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// popplerSource runs poppler's pdftotext -raw on the whole document (fed on
// standard input) and splits its output at form feeds, one per page.
type popplerSource struct {
	path     string
	maxBytes int
}

func (popplerSource) name() Backend { return Pdftotext }

func (s popplerSource) pages(ctx context.Context, data []byte, want []int) (map[int]pageOut, int, error) {
	cmd := exec.CommandContext(ctx, s.path, "-raw", "-enc", "UTF-8", "-q", "-", "-")
	cmd.Stdin = bytes.NewReader(data)
	var stdout limitedBuffer
	stdout.max = s.maxBytes
	var stderr limitedBuffer
	stderr.max = 4096
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, 0, fmt.Errorf("pdftotext: %w: %s", err, msg)
		}
		return nil, 0, fmt.Errorf("pdftotext: %w", err)
	}
	if stdout.overflow {
		return nil, 0, errors.New("pdftotext: output exceeds the text size limit")
	}
	all := strings.Split(stdout.String(), "\f")
	// pdftotext ends every page with a form feed, so the last element is
	// what follows the last page (normally nothing).
	if len(all) > 0 && strings.TrimSpace(all[len(all)-1]) == "" {
		all = all[:len(all)-1]
	}
	n := len(all)
	out := make(map[int]pageOut, n)
	if want == nil {
		for p := 1; p <= n; p++ {
			want = append(want, p)
		}
	}
	for _, p := range want {
		if p >= 1 && p <= n {
			out[p] = pageOut{text: all[p-1]}
		}
	}
	return out, n, nil
}

// limitedBuffer keeps at most max bytes and remembers whether more came.
type limitedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.Len()
	if room <= 0 {
		b.overflow = b.overflow || len(p) > 0
		return len(p), nil
	}
	if len(p) > room {
		b.overflow = true
		b.Buffer.Write(p[:room])
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

var _ io.Writer = (*limitedBuffer)(nil)
