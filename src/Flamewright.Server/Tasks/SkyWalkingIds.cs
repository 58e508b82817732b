using System.Text;

namespace Flamewright.Server.Tasks;

/// <summary>
/// Ids built the way SkyWalking builds them (docs/protocol.md, "Ids"), so that ids from the UI,
/// swctl and other SkyWalking tools mean the same here.
/// </summary>
public static class SkyWalkingIds
{
    /// <summary>What a blank name is encoded as.</summary>
    public const string BlankName = "_blank";

    /// <summary><c>Base64(name) + ".1"</c>: the suffix marks a "normal" (agent-reported) service.</summary>
    public static string ServiceId(string serviceName) => Encode(serviceName) + ".1";

    /// <summary><c>serviceId + "_" + Base64(instanceName)</c>.</summary>
    public static string InstanceId(string serviceId, string instanceName) => serviceId + "_" + Encode(instanceName);

    /// <summary><c>createTimeMillis + "_" + serviceId</c>.</summary>
    public static string TaskId(long createTime, string serviceId) => $"{createTime}_{serviceId}";

    /// <summary>The service name inside a service id, or <c>null</c> when the id is not one.</summary>
    public static string? ServiceNameOf(string serviceId)
    {
        int dot = serviceId.LastIndexOf('.');
        return dot <= 0 ? null : Decode(serviceId[..dot]);
    }

    /// <summary>The service id and instance name inside an instance id, or <c>null</c> when the id is not one.</summary>
    public static (string ServiceId, string InstanceName)? SplitInstanceId(string instanceId)
    {
        // Base64 never contains '_', so the first one separates the two parts.
        int underscore = instanceId.IndexOf('_', StringComparison.Ordinal);
        if (underscore <= 0)
        {
            return null;
        }

        string serviceId = instanceId[..underscore];
        string? name = Decode(instanceId[(underscore + 1)..]);
        return name is null || ServiceNameOf(serviceId) is null ? null : (serviceId, name);
    }

    private static string Encode(string name) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.IsNullOrWhiteSpace(name) ? BlankName : name));

    private static string? Decode(string base64)
    {
        byte[] buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out int written)
            ? Encoding.UTF8.GetString(buffer, 0, written)
            : null;
    }
}
