using Flamewright.Server.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Hosting;

/// <summary>
/// <c>GET /healthz</c> for load balancers and service managers: <c>ok</c> while the store can take writes, HTTP 503
/// <c>unhealthy: storage cannot be written</c> when it cannot (a data directory or database file made read-only,
/// a full disk, a database that went away or became a standby), so that a node which would lose every upload is
/// taken out of rotation. The answer names no path; the server's log has the reason.
/// </summary>
internal static partial class Health
{
    public const string Path = "/healthz";

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, async (SqlProfilingStore store, ILoggerFactory loggers, HttpContext context) =>
        {
            if (await store.WriteProblemAsync(context.RequestAborted).ConfigureAwait(false) is { } problem)
            {
                LogUnhealthy(loggers.CreateLogger(typeof(Health).FullName!), new LogText(problem));
                return Results.Text("unhealthy: storage cannot be written\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return Results.Text("ok\n");
        });
        return endpoints;
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Health check: storage cannot be written: {Problem}")]
    private static partial void LogUnhealthy(ILogger logger, LogText problem);
}
