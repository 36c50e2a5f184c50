// Package pionlog sends the logs of Pion's libraries (WebRTC, ICE, TURN) to a
// log/slog logger.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// Factory returns the logger factory Pion's settings take. Pion's info messages are
// chatty, so they go out at debug level; its errors are mostly about one peer's bad or
// late packets, or benign races at teardown (writing RTCP to a closed connection), so
// they go out as warnings; trace is dropped. Each logger carries its Pion scope as
// the "pion" attribute.
func Factory(l *slog.Logger) logging.LoggerFactory { return factory{l} }

type factory struct{ l *slog.Logger }

func (f factory) NewLogger(scope string) logging.LeveledLogger {
	return logger{f.l.With("pion", scope)}
}

type logger struct{ l *slog.Logger }

func (p logger) log(level slog.Level, msg string) { p.l.Log(context.Background(), level, msg) }

func (p logger) logf(level slog.Level, format string, args ...any) {
	if p.l.Enabled(context.Background(), level) {
		p.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (p logger) Trace(string)                      {}
func (p logger) Tracef(string, ...any)             {}
func (p logger) Debug(msg string)                  { p.log(slog.LevelDebug, msg) }
func (p logger) Debugf(format string, args ...any) { p.logf(slog.LevelDebug, format, args...) }
func (p logger) Info(msg string)                   { p.log(slog.LevelDebug, msg) }
func (p logger) Infof(format string, args ...any)  { p.logf(slog.LevelDebug, format, args...) }
func (p logger) Warn(msg string)                   { p.log(slog.LevelWarn, msg) }
func (p logger) Warnf(format string, args ...any)  { p.logf(slog.LevelWarn, format, args...) }
func (p logger) Error(msg string)                  { p.log(slog.LevelWarn, msg) }
func (p logger) Errorf(format string, args ...any) { p.logf(slog.LevelWarn, format, args...) }
