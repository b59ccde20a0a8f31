## demo: the CLI against localaws with two seeded applications (scan, scan --apply, scan)
.PHONY: demo
demo: build
	internal/demo/demo.sh
