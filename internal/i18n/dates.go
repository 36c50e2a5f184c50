package i18n

import (
	"fmt"
	"time"
)

// LongDate formats a day as "quarta-feira, 2 de dezembro de 2026" / "Wednesday 2 December 2026".
func (c *Catalog) LongDate(lang string, t time.Time) string {
	return c.T(lang, "format.long_date", c.T(lang, fmt.Sprintf("weekday.%d", int(t.Weekday()))), t.Day(),
		c.T(lang, fmt.Sprintf("month.%d", int(t.Month()))), t.Year())
}

// ShortDate formats a day as "qua., 2 dez." / "Wed 2 Dec".
func (c *Catalog) ShortDate(lang string, t time.Time) string {
	return c.T(lang, "format.short_date", c.T(lang, fmt.Sprintf("weekday_short.%d", int(t.Weekday()))), t.Day(),
		c.T(lang, fmt.Sprintf("month_short.%d", int(t.Month()))))
}
