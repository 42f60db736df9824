//go:build race

package logging

// sync.Pool drops items at random under the race detector, so allocation
// budgets that rely on it are only checked in normal builds.
const raceEnabled = true
