//go:build tools

// Package tools pins the commands this module builds: MetalLB's controller and speaker.
package tools

import (
	_ "go.universe.tf/metallb/controller"
	_ "go.universe.tf/metallb/speaker"
)
