// Package calendar provides civil dates, the agency's time zone and
// Portuguese national holidays.
//
// Appointments are agreed in calendar days and local wall-clock times, so a
// [Date] carries no time zone; it is turned into an instant only with an
// explicit location, normally [Lisbon].
package calendar
