using System.Text;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Server.Analysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flamewright.Server.Query;

/// <summary>
/// <c>GET /api/tasks/{taskId}/profile</c>: a task's uploads for an instance selection, merged, in the format
/// asked for — <c>pprof</c> (gzip profile.proto that <c>go tool pprof</c> reads), <c>folded</c>, <c>svg</c>,
/// <c>speedscope</c>, <c>json</c>, <c>skywalking</c> or <c>top</c> (<see cref="ExportFormat"/>). Query parameters: <c>instances</c> (comma-separated instance
/// ids; default every upload), <c>format</c>, <c>sampleType</c>, <c>granularity</c>, <c>focus</c>, <c>ignore</c>, <c>tagFocus</c>, <c>tagIgnore</c>, <c>tagSplit</c>.
/// </summary>
public static class RestDownloads
{
    /// <summary>The download route.</summary>
    public const string Route = "/api/tasks/{taskId}/profile";


    internal static IEndpointRouteBuilder MapRestDownloads(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Route, DownloadAsync);
        return endpoints;
    }

    private static async Task DownloadAsync(HttpContext context, string taskId, AnalysisService analysis)
    {
        IQueryCollection query = context.Request.Query;
        string formatName = (string?)query["format"] ?? "pprof";
        if (ExportFormat.Find(formatName) is not { } format)
        {
            await FailAsync(context, StatusCodes.Status400BadRequest, $"unknown format '{formatName}': use one of {string.Join(", ", ExportFormat.Names)}").ConfigureAwait(false);
            return;
        }

        string granularityText = ((string?)query["granularity"] ?? "function").ToLowerInvariant();
        if (granularityText is not ("function" or "line"))
        {
            await FailAsync(context, StatusCodes.Status400BadRequest, "granularity must be 'function' or 'line'").ConfigureAwait(false);
            return;
        }

        string? instances = query["instances"];
        var request = new AnalysisRequest(
            taskId,
            string.IsNullOrEmpty(instances) ? null : instances.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            NullIfEmpty(query["sampleType"]),
            granularityText == "line" ? FrameGranularity.Line : FrameGranularity.Function,
            NullIfEmpty(query["focus"]),
            NullIfEmpty(query["ignore"]),
            NullIfEmpty(query["tagFocus"]),
            NullIfEmpty(query["tagIgnore"]),
            NullIfEmpty(query["tagSplit"]));
        if (format.Source == ExportSource.Profile && !request.IsUnfiltered)
        {
            await FailAsync(context, StatusCodes.Status400BadRequest,
                "format pprof is the merged profile, whole; focus, ignore and the tag filters apply to the other formats").ConfigureAwait(false);
            return;
        }

        try
        {
            await WriteAsync(context, request, format, analysis).ConfigureAwait(false);
        }
        catch (AnalysisException e)
        {
            int status = e.Busy ? StatusCodes.Status503ServiceUnavailable
                : e.UnknownTask ? StatusCodes.Status404NotFound
                : StatusCodes.Status400BadRequest;
            await FailAsync(context, status, e.Message).ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(HttpContext context, AnalysisRequest request, ExportFormat format, AnalysisService analysis)
    {
        CancellationToken cancellation = context.RequestAborted;
        // Built fully before the first byte goes out, so that a failure is a clean error status, not a cut body.
        using var body = new MemoryStream();
        switch (format.Source)
        {
            case ExportSource.Profile:
                // Decoding, merging and writing the profiles all take memory: in an analysis turn.
                await analysis.InTurnAsync(async () =>
                {
                    Profile merged = await analysis.MergedAsync(request, cancellation).ConfigureAwait(false);
                    return AnalysisService.Run(() =>
                    {
                        format.Write(merged, body);
                        return 0;
                    });
                }, cancellation).ConfigureAwait(false);
                break;
            case ExportSource.Top:
                format.Write((await analysis.TopAsync(request, analysis.NewMatchBudget(), cancellation).ConfigureAwait(false)).Table, body);
                break;
            default:
                // The tree comes from the cache or is built (in a turn of its own); writing a large one takes memory too,
                // so it is written in a turn, once the tree is there.
                FlameTree tree = (await analysis.TreeAsync(request, strict: true, analysis.NewMatchBudget(), cancellation).ConfigureAwait(false))!.Tree;
                using (await analysis.EnterAsync(cancellation).ConfigureAwait(false))
                {
                    format.Write(tree, body, $"task {request.TaskId}");
                }

                break;
        }

        context.Response.ContentType = format.ContentType;
        string fileName = $"{SafeFileName(request.TaskId)}.{format.Extension}";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
        context.Response.ContentLength = body.Length;
        body.Position = 0;
        await body.CopyToAsync(context.Response.Body, cancellation).ConfigureAwait(false);
    }

    private static string SafeFileName(string taskId)
    {
        var safe = new StringBuilder(taskId.Length);
        foreach (char c in taskId)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }

        return safe.ToString();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static Task FailAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }
}
