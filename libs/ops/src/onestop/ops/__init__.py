"""Operating onestop: the `onestop` command, the local trace viewer and the demo."""
