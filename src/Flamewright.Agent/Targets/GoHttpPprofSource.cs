using System.Net;
using Flamewright.Agent.Tasks;
using Flamewright.Pprof;
using Flamewright.Pprof.Model;

namespace Flamewright.Agent.Targets;

/// <summary>
/// Collects profiles from a Go service's <c>net/http/pprof</c> handlers: cpu from <c>/debug/pprof/profile</c>,
/// block and mutex as the delta over the task's duration (<c>?seconds=</c>), the others as one snapshot.
/// Every answer is parsed before it is uploaded, so a broken or empty profile is reported with its reason.
/// </summary>
public sealed class GoHttpPprofSource(HttpClient http, AgentOptions options) : IProfileSource
{
    public async Task<CollectedProfile> CollectAsync(PprofCommand task, TimeSpan profilingTime, CancellationToken cancellationToken)
    {
        int seconds = Math.Max(1, (int)Math.Round(profilingTime.TotalSeconds));
        string? path = task.Event switch
        {
            "cpu" => $"/debug/pprof/profile?seconds={seconds}",
            "block" => $"/debug/pprof/block?seconds={seconds}",
            "mutex" => $"/debug/pprof/mutex?seconds={seconds}",
            "heap" => "/debug/pprof/heap",
            "allocs" => "/debug/pprof/allocs",
            "goroutine" => "/debug/pprof/goroutine",
            "threadcreate" => "/debug/pprof/threadcreate",
            _ => null,
        };
        if (path is null)
        {
            return CollectedProfile.Failed($"unknown event '{task.Event}'");
        }

        var address = new Uri(options.Target, path);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter((task.HasDuration ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero) + options.TargetGrace);
        byte[] bytes;
        try
        {
            using HttpResponseMessage response = await http.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                string body = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
                return CollectedProfile.Failed($"the target answered {address} with HTTP {(int)response.StatusCode}: {FirstLine(body)}");
            }

            byte[]? read = await ReadCappedAsync(response, deadline.Token).ConfigureAwait(false);
            if (read is null)
            {
                return CollectedProfile.Failed($"the profile from {address} is larger than the upload limit of {options.MaxProfileBytes} bytes; nothing was sent");
            }

            bytes = read;
        }
        catch (HttpRequestException e)
        {
            return CollectedProfile.Failed($"the target {options.Target} is unreachable: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return CollectedProfile.Failed($"the target did not answer {address} within {(int)((task.HasDuration ? seconds : 0) + options.TargetGrace.TotalSeconds)} s");
        }

        Profile profile;
        try
        {
            profile = ProfileReader.Read(bytes);
        }
        catch (PprofFormatException e)
        {
            return CollectedProfile.Failed($"the target's answer from {address} is not a profile: {e.Message}");
        }

        if (task.Event is "block" or "mutex" && profile.SampleCount == 0)
        {
            string how = task.Event == "block"
                ? $"call runtime.SetBlockProfileRate(rate) with rate > 0 in the service (e.g. {Math.Max(1, task.DumpPeriod)})"
                : $"call runtime.SetMutexProfileFraction(fraction) with fraction > 0 in the service (e.g. {Math.Max(1, task.DumpPeriod)})";
            return CollectedProfile.Failed(
                $"the {task.Event} profile has no samples: {task.Event} profiling is not enabled in the service; {how}");
        }

        return CollectedProfile.Of(bytes);
    }

    private async Task<byte[]?> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // Read with the limit checked as bytes arrive: the target's Content-Length is not trusted for sizing.
        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > options.MaxProfileBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static string FirstLine(string text)
    {
        string line = text.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + " …" : line.Length == 0 ? "(empty body)" : line;
    }
}
