package arbiter

import (
	"syscall"
	"time"
)

// stop ends the server. graceful: stop accepting, let in-flight requests
// finish up to graceful_timeout, then TERM the workers; quick: QUIT them.
func (a *Arbiter) stop(graceful bool) int {
	a.stopping = true
	a.stopControl()
	deadline := time.Now().Add(a.opt.GracefulTimeout)
	if graceful {
		a.front.Shutdown(a.opt.GracefulTimeout)
		// Nothing is in flight any more: TERM is gunicorn's word for it, and
		// EOF on the channel makes sure a worker blocked in a read hears it.
		a.signalAll(syscall.SIGTERM)
		for _, s := range a.workers {
			s.w.Close()
		}
	} else {
		a.signalAll(syscall.SIGQUIT)
		a.front.Shutdown(0)
		deadline = time.Now().Add(2 * time.Second)
	}
	a.waitWorkers(deadline)
	a.pool.Close()
	a.stopZygotes()
	a.joinReaders()
	a.log.Info("Shutting down: %s", a.masterName())
	return ExitOK
}

// halt stops everything after a fatal condition and logs the reason.
func (a *Arbiter) halt(reason string, code int, graceful bool) int {
	a.stopping = true
	a.stopControl()
	a.front.Shutdown(0)
	a.signalAll(syscall.SIGTERM)
	a.waitWorkers(time.Now().Add(a.opt.GracefulTimeout))
	a.pool.Close()
	a.stopZygotes()
	a.joinReaders()
	a.log.Error("Shutting down: %s", a.masterName())
	a.log.Error("Reason: %s", reason)
	return code
}

// haltOrphaned stops after the zygote died: its workers are orphans whose
// exits nobody reports, so they get TERM, a short grace, then KILL.
func (a *Arbiter) haltOrphaned(reason string, code int) int {
	a.stopping = true
	a.stopControl()
	a.front.Shutdown(0)
	a.signalAll(syscall.SIGTERM)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && a.anyAlive() {
		time.Sleep(20 * time.Millisecond)
	}
	a.signalAll(syscall.SIGKILL)
	a.pool.Close()
	a.stopZygotes()
	a.joinReaders()
	a.log.Error("Shutting down: %s", a.masterName())
	a.log.Error("Reason: %s", reason)
	return code
}

func (a *Arbiter) anyAlive() bool {
	for _, s := range a.workers {
		if pid := s.w.PID(); pid > 0 && syscall.Kill(pid, 0) == nil {
			return true
		}
	}
	return false
}

func (a *Arbiter) signalAll(sig syscall.Signal) {
	for _, s := range a.workers {
		a.kill(s.w, sig)
	}
}

// waitWorkers waits for the zygote to report every worker gone, killing
// the rest at the deadline.
func (a *Arbiter) waitWorkers(deadline time.Time) {
	killed := false
	for len(a.workers) > 0 {
		wait := time.Until(deadline)
		if wait <= 0 {
			if killed {
				wait = time.Second
			} else {
				killed = true
				a.signalAll(syscall.SIGKILL)
				deadline = time.Now().Add(time.Second)
				continue
			}
		}
		select {
		case ze := <-a.zevents:
			ev := ze.ev
			if ev.Lost != nil {
				if ze.z == a.zyg {
					return
				}
				continue
			}
			if ev.Exited != nil {
				if s := a.byPID[ev.Exited.PID]; s != nil {
					a.forgetSlot(s)
				}
			}
			if ev.Spawned != nil {
				if s := a.workers[ev.Spawned.WorkerID]; s != nil {
					s.w.SetPID(ev.Spawned.PID)
					a.byPID[ev.Spawned.PID] = s
					_ = s.w.Signal(syscall.SIGTERM)
				}
			}
		case <-a.notices:
		case <-a.idle:
		case <-time.After(wait):
			if killed {
				return
			}
		}
	}
}

// joinReaders waits for every worker reader goroutine, draining their
// notices so none blocks on a send nobody reads any more.
func (a *Arbiter) joinReaders() {
	for _, s := range a.workers {
		s.w.Close()
	}
	done := make(chan struct{})
	go func() {
		a.readers.Wait()
		close(done)
	}()
	for {
		select {
		case <-a.notices:
		case <-done:
			return
		}
	}
}

// stopZygotes ends the current zygote (on_exit runs there) and any replaced
// one still alive, then joins their forwarders.
func (a *Arbiter) stopZygotes() {
	for z := range a.zygotes {
		if z == a.zyg {
			select {
			case <-z.Done():
				z.Kill()
			default:
				z.Stop()
			}
		} else {
			z.Close()
		}
	}
	done := make(chan struct{})
	go func() {
		a.zwg.Wait()
		close(done)
	}()
	for {
		select {
		case <-a.zevents:
		case <-done:
			return
		}
	}
}
