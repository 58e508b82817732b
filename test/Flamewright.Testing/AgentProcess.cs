using System.Diagnostics;
using System.Text;

namespace Flamewright.Testing;

/// <summary>
/// A real <c>flamewright agent</c> process, polling fast and with a task "minute" of 2 s (the hidden test flag),
/// so that CPU, BLOCK and MUTEX tasks finish in seconds.
/// </summary>
internal sealed class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AgentProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The length of a task's minute in these tests.</summary>
    public const string TaskMinute = "2s";

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static AgentProcess Start(string servers, string service, string instance, Uri target) =>
        new(FlamewrightProcess.Start(
            ["agent", "--server", servers, "--service", service, "--instance", instance, "--target", target.ToString(),
             "--poll", "300ms", "--keep-alive", "1s", "--test-task-minute", TaskMinute]));

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
