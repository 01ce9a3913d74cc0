// Command bitmapist is the shell side of the bitmapist library: a demo that
// needs nothing installed, CSV imports into Redis, cohort tables, the
// dashboard, and the core operations (mark, count, list).
//
// Run "bitmapist --help" or "bitmapist <command> --help" for details.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

// main runs the command on the process's arguments and streams, cancelled
// by SIGINT or SIGTERM, and exits with run's code.
func main() {
	// go-redis logs dial failures itself; the command reports them once, as
	// its own one-line error.
	redis.SetLogger(&logging.VoidLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
