package browsertest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Xvfb is a virtual X screen of its own for one browser.
type Xvfb struct {
	// Display is the screen's name, for DISPLAY.
	Display string

	cmd *exec.Cmd
}

// StartXvfb starts the Xvfb at path on a free display, its output going to out, and
// returns once the screen accepts clients. Close it when done.
func StartXvfb(ctx context.Context, path string, out *Tail) (*Xvfb, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("xvfb: %w", err)
	}
	defer r.Close()
	// -displayfd: Xvfb picks a free display and writes its number once it accepts
	// clients.
	cmd := exec.Command(path, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stderr = out
	err = cmd.Start()
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("start xvfb: %w", err)
	}
	x := &Xvfb{cmd: cmd}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			err := fmt.Errorf("xvfb did not start: %s", out)
			x.Close()
			return nil, err
		}
		x.Display = ":" + n
		return x, nil
	case <-ctx.Done():
		x.Close()
		return nil, fmt.Errorf("xvfb did not start: %w", ctx.Err())
	}
}

// Close ends the screen.
func (x *Xvfb) Close() {
	x.cmd.Process.Kill()
	x.cmd.Wait()
}
