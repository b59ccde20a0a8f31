// Package source reads applications from whatever a user points kdaguard at:
// a CDK cloud assembly folder, `aws kinesisanalyticsv2 describe-application`
// JSON, or a CloudFormation template (JSON or YAML).
package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/source/describe"
	"github.com/kdaguard/kdaguard/shared/source/template"
)

// MaxFileSize bounds what Load reads from one file; templates are at most
// 1 MB (CloudFormation's own limit), describe-application output far less.
const MaxFileSize = 16 << 20

// Load reads the applications at path:
//   - a directory holding manifest.json is a CDK cloud assembly (cdk.out);
//   - a file that looks like describe-application output ({"ApplicationDetail": ...})
//     is one application, with Origin.File set to path;
//   - any other file is a CloudFormation template, JSON or YAML, with one
//     application per AWS::KinesisAnalyticsV2::Application resource.
//
// A template without an application yields none and no error. Every error
// is one line that names the file and the problem.
func Load(path string) ([]*model.Application, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "manifest.json")); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: a directory without manifest.json (not a CDK cloud assembly; name a template file or cdk.out)", path)
			}
			return nil, fileErr(filepath.Join(path, "manifest.json"), err)
		}
		apps, err := template.LoadAssembly(path)
		if err != nil {
			return nil, named(path, err)
		}
		return apps, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s: file too large (%d bytes, limit %d)", path, fi.Size(), MaxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	return Parse(path, data)
}

// Parse reads one file's content already in memory (see Load).
func Parse(path string, data []byte) ([]*model.Application, error) {
	if describe.IsDescribeJSON(data) {
		app, err := describe.ParseJSON(data)
		if err != nil {
			return nil, named(path, err)
		}
		app.Origin.File = path
		return []*model.Application{app}, nil
	}
	apps, err := template.Parse(path, data)
	if err != nil {
		return nil, named(path, err)
	}
	return apps, nil
}

// fileErr reports an I/O error as "path: problem" without repeating the path
// that *fs.PathError already carries.
func fileErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%s: no such file or directory", path)
		case errors.Is(err, fs.ErrPermission):
			return fmt.Errorf("%s: permission denied", path)
		}
		return fmt.Errorf("%s: %s: %v", path, pe.Op, pe.Err)
	}
	return named(path, err)
}

// named prefixes err with path unless it already names it, and keeps it on
// one line.
func named(path string, err error) error {
	msg := OneLine(err.Error())
	prefixed := strings.HasPrefix(msg, path+":") || strings.HasPrefix(msg, path+" ")
	switch {
	case msg == err.Error() && prefixed:
		return err
	case msg == err.Error():
		return fmt.Errorf("%s: %w", path, err)
	case prefixed:
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %s", path, msg)
}

// OneLine folds a multi-line message onto one line.
func OneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}
