using System.Net;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Flamewright.Server.Query;

/// <summary>
/// What keeps other web sites out of the HTTP API, token or not (docs/security.md, "Browsers"):
/// <list type="bullet">
/// <item>The <c>Host</c> header must be an IP address, a <c>localhost</c> name or one of
/// <see cref="ServerOptions.AllowedHosts"/>: a site that points its own name at this server (DNS rebinding) is
/// refused, so its pages cannot read answers through a visitor's browser.</item>
/// <item>A request with an <c>Origin</c> header must come from the server's own origin or one of
/// <see cref="ServerOptions.AllowedOrigins"/>: a page elsewhere cannot create tasks or read profiles.</item>
/// <item><c>POST /graphql</c> must say <c>Content-Type: application/json</c>: a plain HTML form or a "simple"
/// cross-site request can only send <c>text/plain</c> or form types, and JSON makes the browser ask first (a CORS
/// preflight, which this server never grants).</item>
/// </list>
/// <c>/healthz</c> is left out: load balancers ask it under whatever name they use. So are the agents' gRPC calls,
/// which only the agent port serves: no page can make them, and agents reach the server under any name.
/// </summary>
internal static partial class SiteChecks
{
    public static WebApplication UseSiteChecks(this WebApplication app, ServerOptions options)
    {
        string[] hosts = List(options.AllowedHosts);
        string[] origins = [.. List(options.AllowedOrigins).Select(o => o.TrimEnd('/'))];
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SiteChecks).FullName!);
        app.Use(async (context, next) =>
        {
            HttpRequest request = context.Request;
            string? refusal = null;
            int status = StatusCodes.Status403Forbidden;
            if (request.Path.StartsWithSegments(Health.Path, StringComparison.OrdinalIgnoreCase))
            {
                // Load balancers ask under whatever name they use.
            }
            else if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null)
            {
                // An agent's call: only the agent port reaches these (Hosting/PortRoles.cs), which no browser page can
                // call, and agents name the server as they reach it (a cluster's service name, say).
            }
            else if (!HostAllowed(request.Host, hosts))
            {
                refusal = $"this server does not answer to the name '{request.Host.Host}': add it to AllowedHosts";
            }
            else if (request.Headers.Origin is { Count: > 0 } origin && !OriginAllowed(origin.ToString(), request.Host, origins))
            {
                refusal = $"requests from pages of {origin} are refused: add the origin to AllowedOrigins to let its pages call this API";
            }
            else if (HttpMethods.IsPost(request.Method)
                && request.Path.StartsWithSegments(GraphQLEndpoint.Path, StringComparison.OrdinalIgnoreCase)
                && !IsJson(request.ContentType))
            {
                status = StatusCodes.Status415UnsupportedMediaType;
                refusal = "POST /graphql needs Content-Type: application/json";
            }

            if (refusal is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            LogRefused(logger, new LogText(request.Path.Value), new LogText(refusal), context.Connection.RemoteIpAddress?.ToString() ?? "?");
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { errors = new[] { new { message = refusal } } }, context.RequestAborted).ConfigureAwait(false);
        });
        return app;
    }

    /// <summary>
    /// IP addresses need no list: a browser sends one only when the page's own address is that IP, which no other
    /// site can be. <c>localhost</c> and <c>*.localhost</c> always mean this machine (browsers resolve them
    /// themselves). Any other name must be listed. A request without <c>Host</c> (HTTP/1.0) comes from no browser.
    /// </summary>
    internal static bool HostAllowed(HostString host, string[] allowed)
    {
        if (!host.HasValue)
        {
            return true;
        }

        string name = host.Host.TrimEnd('.');
        if (IPAddress.TryParse(name.Trim('[', ']'), out _)
            || name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (string pattern in allowed)
        {
            if (pattern == "*"
                || name.Equals(pattern, StringComparison.OrdinalIgnoreCase)
                || (pattern.StartsWith("*.", StringComparison.Ordinal) && name.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The server's own origin: the host and port the request was sent to. A <c>Host</c> without a port (behind a
    /// proxy that ends TLS, say) stands for the origin scheme's default port. <c>Origin: null</c> (sandboxed frames,
    /// local files) is nobody's own.
    /// </summary>
    internal static bool OriginAllowed(string origin, HostString host, string[] allowed)
    {
        string trimmed = origin.Trim().TrimEnd('/');
        foreach (string pattern in allowed)
        {
            if (pattern == "*" || trimmed.Equals(pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https") || !host.HasValue)
        {
            return false;
        }

        int port = host.Port ?? uri.Port;
        return uri.Host.Equals(host.Host, StringComparison.OrdinalIgnoreCase) && uri.Port == port;
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? type)
        && type.MediaType is { } media
        && (media.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static string[] List(string setting) =>
        setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [LoggerMessage(EventId = 460, Level = LogLevel.Warning, Message = "Refused {Path}: {Reason} (from {Remote})")]
    private static partial void LogRefused(ILogger logger, LogText path, LogText reason, string remote);
}
