//go:build darwin

package rie

import (
	"errors"
	"time"
)

// PeakRSS needs /proc; it is measured on Linux only.
func (f *Function) PeakRSS() (int64, error) {
	return 0, errors.New("peak RSS: needs Linux /proc")
}

// CPUTime needs /proc; it is measured on Linux only.
func (f *Function) CPUTime() (time.Duration, error) {
	return 0, errors.New("cpu time: needs Linux /proc")
}
