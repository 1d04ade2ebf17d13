package main

import "flag"

// parseOperand parses args with fs, allowing the command's one operand (a
// file, a hash) before or after the flags, and returns it. ok is false
// when the flags are wrong (fs has said why); the operand is "" when it is
// missing or more than one is given (the caller prints its usage).
func parseOperand(fs *flag.FlagSet, args []string) (operand string, ok bool) {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		operand, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", false
	}
	switch {
	case operand == "" && fs.NArg() == 1:
		return fs.Arg(0), true
	case fs.NArg() > 0:
		return "", true
	}
	return operand, true
}
