package arbiter

import (
	"os"

	"github.com/gonicorn/gonicorn/internal/zygote"
)

// reexec is USR2: start a new master that inherits the listeners.
func (a *Arbiter) reexec() {
	if a.child != nil {
		a.log.Warning("USR2 signal ignored. Child exists.")
		return
	}
	if a.opt.ParentPID != 0 {
		a.log.Warning("USR2 signal ignored. Parent exists.")
		return
	}
	if a.Reexec == nil {
		return
	}
	_ = a.zyg.Hook("pre_exec")
	cmd, err := a.Reexec()
	if err != nil {
		a.log.Error("Cannot start a new master: %v", err)
		return
	}
	done := make(chan struct{})
	a.child, a.childDone = cmd, done
	// Reaps the new master if it dies while we run. Not joined on exit on
	// purpose: the new master outlives us, which is the point of USR2.
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
}

// HasChild reports whether a master started by USR2 is running.
func (a *Arbiter) HasChild() bool { return a.child != nil }

// maybePromote notices that the old master of a binary upgrade is gone.
func (a *Arbiter) maybePromote() {
	if a.opt.ParentPID == 0 || os.Getppid() == a.opt.ParentPID {
		return
	}
	a.log.Info("Master has been promoted.")
	a.opt.ParentPID = 0
	a.opt.MasterName = "Master"
	if a.OnPromote != nil {
		a.OnPromote()
	}
}

// watchZygote forwards a zygote's reports into the merged channel.
func (a *Arbiter) watchZygote(z *zygote.Zygote) {
	a.zygotes[z] = 0
	events := z.Serve()
	a.zwg.Add(1)
	go func() {
		defer a.zwg.Done()
		for ev := range events {
			a.zevents <- zevent{z: z, ev: ev}
		}
	}()
}

// reload is HUP: re-read the settings in a fresh zygote, start a fresh set
// of workers from it, then retire the old ones as soon as their
// replacements are ready, so no request ever finds no worker. A config
// that fails to load keeps the running server as it is.
func (a *Arbiter) reload() {
	a.log.Info("Hang up: %s", a.masterName())
	a.ctl.reloads++
	if a.Reload != nil {
		z, opt, err := a.Reload(a.target)
		if err != nil {
			a.log.Error("Reload failed, keeping the running configuration: %v", err)
			return
		}
		old := a.zyg
		a.zyg = z
		a.watchZygote(z)
		a.opt.Timeout, a.opt.GracefulTimeout, a.opt.MaxWorkerMemory = opt.Timeout, opt.GracefulTimeout, opt.MaxWorkerMemory
		a.target = opt.Workers // the new zygote ran nworkers_changed
		a.closeIfDone(old)
	}
	for _, s := range a.workers {
		s.oldGen = true
	}
	for i := 0; i < a.target; i++ {
		a.spawn()
	}
}

// closeIfDone ends a replaced zygote once its last worker is gone.
func (a *Arbiter) closeIfDone(z *zygote.Zygote) {
	if z == a.zyg || a.zygotes[z] > 0 {
		return
	}
	delete(a.zygotes, z)
	a.zwg.Add(1)
	go func() {
		defer a.zwg.Done()
		z.Close()
	}()
}
