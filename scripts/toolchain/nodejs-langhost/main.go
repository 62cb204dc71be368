// Minimal Node.js language host for the Pulumi engine (kubepolaris-ha toolchain).
//
// The official host (module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// is refused by the Go module proxy this project can reach (HTTP 403), so
// scripts/toolchain.sh builds this stand-in instead. It implements only what
// `pulumi preview`/`pulumi up` (and `--policy-pack`) need:
//
//   - Run: start `node <@pulumi/pulumi/cmd/run> --monitor … <program>` from the
//     project's own node_modules, with config in PULUMI_CONFIG.
//   - RunPlugin (kind "analyzer"): start `node <@pulumi/pulumi/cmd/run-policy-pack>
//     <engine> <policy dir>`, streaming its stdout (the gRPC port) back to the engine.
//
// Everything else that runs (resource registration, TypeScript via ts-node,
// @pulumi/policy) is the real npm code in node_modules. Dependency
// installation is the job of `npm ci`, so InstallDependencies is a no-op.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"
	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Version is set with -ldflags "-X main.Version=…".
var Version = "0.0.0-dev"

// Exit code @pulumi/pulumi uses after it has already shown a user-actionable error.
const bailExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	nodeBin       string
}

func main() {
	var tracing, root string
	var typescript bool
	flag.StringVar(&tracing, "tracing", "", "ignored")
	flag.StringVar(&root, "root", "", "ignored")
	flag.BoolVar(&typescript, "typescript", true, "ignored")
	flag.Parse()

	if flag.NArg() == 1 && flag.Arg(0) == "version" {
		fmt.Println(Version)
		return
	}

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-language-nodejs: could not find node on the $PATH")
		os.Exit(1)
	}
	h := &host{nodeBin: nodeBin}
	if flag.NArg() > 0 {
		h.engineAddress = flag.Arg(0)
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start gRPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: stopped serving: %v\n", err)
		os.Exit(1)
	}
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

// Plugins are found on $PATH (PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true);
// the engine loads each provider when the first resource needs it.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) InstallDependencies(_ *pulumirpc.InstallDependenciesRequest,
	srv pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	return srv.Send(&pulumirpc.InstallDependenciesResponse{
		Stdout: []byte("kubepolaris toolchain: dependencies are installed by `npm ci`, nothing to do\n"),
	})
}

func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	out, _ := exec.Command(h.nodeBin, "--version").Output()
	return &pulumirpc.AboutResponse{Executable: h.nodeBin, Version: strings.TrimSpace(string(out))}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

// resolveModule asks node where `mod` resolves from dir (walks up node_modules).
func (h *host) resolveModule(dir, mod string) (string, error) {
	cmd := exec.Command(h.nodeBin, "-e", "process.stdout.write(require.resolve(process.argv[1]))", mod)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot resolve %s from %s (did you run npm ci?): %w", mod, dir, err)
	}
	return string(out), nil
}

func options(info *pulumirpc.ProgramInfo) map[string]interface{} {
	if info == nil || info.GetOptions() == nil {
		return map[string]interface{}{}
	}
	return info.GetOptions().AsMap()
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := req.GetPwd()
	entry := req.GetProgram()
	if info != nil {
		if info.GetProgramDirectory() != "" {
			programDir = info.GetProgramDirectory()
		}
		entry = info.GetEntryPoint()
	}
	if entry == "" {
		entry = "."
	}
	opts := options(info)

	runPath, err := h.resolveModule(programDir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	var args []string
	if na, ok := opts["nodeargs"].(string); ok && na != "" {
		args = append(args, strings.Fields(na)...)
	}
	args = append(args, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", programDir)
	if info != nil {
		add("root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	sk, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	env := os.Environ()
	env = append(env, "PULUMI_CONFIG="+string(cfg), "PULUMI_CONFIG_SECRET_KEYS="+string(sk))
	ts := true
	if v, ok := opts["typescript"].(bool); ok {
		ts = v
	}
	env = append(env, "PULUMI_NODEJS_TYPESCRIPT="+strconv.FormatBool(ts))
	if p, ok := opts["tsconfig"].(string); ok && p != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+p)
	}

	cmd := exec.CommandContext(ctx, h.nodeBin, args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

type streamWriter struct {
	mu     *sync.Mutex
	srv    pulumirpc.LanguageRuntime_RunPluginServer
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	buf := append([]byte(nil), p...)
	w.mu.Lock()
	defer w.mu.Unlock()
	var resp pulumirpc.RunPluginResponse
	if w.stderr {
		resp.Output = &pulumirpc.RunPluginResponse_Stderr{Stderr: buf}
	} else {
		resp.Output = &pulumirpc.RunPluginResponse_Stdout{Stdout: buf}
	}
	if err := w.srv.Send(&resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RunPlugin runs a Node.js policy pack (kind "analyzer"). Node.js resource
// provider plugins are not needed by this project and are refused.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, srv pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != "" && req.GetKind() != "analyzer" {
		return fmt.Errorf("this toolchain's pulumi-language-nodejs only runs policy packs, not %q plugins",
			req.GetKind())
	}
	dir := req.GetProgram()
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
	}
	runPath, err := h.resolveModule(dir, "@pulumi/pulumi/cmd/run-policy-pack")
	if err != nil {
		return err
	}
	engine := h.engine()
	if len(req.GetArgs()) > 0 {
		engine = req.GetArgs()[0]
	}
	args := []string{runPath, engine, dir}
	cmd := exec.CommandContext(srv.Context(), h.nodeBin, args...)
	// The policy pack runs from its own directory (its package.json carries the pack version).
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	var mu sync.Mutex
	cmd.Stdout = streamWriter{mu: &mu, srv: srv}
	cmd.Stderr = streamWriter{mu: &mu, srv: srv, stderr: true}
	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = int32(exitErr.ExitCode())
	}
	mu.Lock()
	defer mu.Unlock()
	return srv.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

var _ io.Writer = streamWriter{}
