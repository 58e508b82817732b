using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flamewright.Server.Web;

/// <summary>
/// The web UI: plain HTML, CSS and JavaScript modules embedded in this assembly (Web/wwwroot), served at
/// <c>/</c> and <c>/ui/…</c>. No build step and nothing fetched from the internet; the pages talk to
/// <c>/graphql</c> and the REST downloads like any other client.
/// </summary>
public static class WebUi
{
    private const string ResourcePrefix = "Flamewright.Server.web/";

    private static readonly Dictionary<string, string> s_contentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>The paths of every page file served: <c>/</c> for index.html, <c>/ui/NAME</c> for the others.</summary>
    internal static IEnumerable<string> Paths =>
        typeof(WebUi).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(name => name[ResourcePrefix.Length..])
            .Select(file => file == "index.html" ? "/" : "/ui/" + file)
            .Order(StringComparer.Ordinal);

    internal static IEndpointRouteBuilder MapWebUi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", context => ServeAsync(context, "index.html"));
        endpoints.MapGet("/ui/{file}", (HttpContext context, string file) => ServeAsync(context, file));
        return endpoints;
    }

    private static async Task ServeAsync(HttpContext context, string file)
    {
        string extension = Path.GetExtension(file);
        // Only names of files that exist in the assembly are served: no paths, no probing.
        Stream? content = s_contentTypes.TryGetValue(extension, out string? type)
            ? typeof(WebUi).Assembly.GetManifestResourceStream(ResourcePrefix + file)
            : null;
        if (content is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        await using (content)
        {
            context.Response.ContentType = type;
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers["X-Content-Type-Options"] = "nosniff";
            context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'";
            // frame-ancestors for browsers that read CSP, X-Frame-Options for those that do not: no other site may frame
            // the UI and trick a click on it.
            context.Response.Headers["X-Frame-Options"] = "DENY";
            context.Response.ContentLength = content.Length;
            await content.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
