// Command balcao serves citizens by video call: booking portal, public API, and (as they
// land) the queue, calls and agent console. `balcao serve` runs it all on one machine.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"balcao/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "balcao:", err)
		os.Exit(1)
	}
}
