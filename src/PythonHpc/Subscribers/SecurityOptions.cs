namespace PythonHpc.Subscribers;

/// <summary>The <c>Security</c> section.</summary>
internal sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>
    /// The HMAC key of confirm and unsubscribe links, at least 32 characters. Empty: one is generated
    /// at first start into <c>Store:DataPath/token-secret</c> (readable by its owner only) and kept.
    /// Changing it breaks every unsubscribe link already mailed, so it must outlive the machine (back it up).
    /// </summary>
    public string TokenSecret { get; set; } = "";

    public const int MinimumSecretLength = 32;

    public IEnumerable<string> Validate()
    {
        if (TokenSecret.Length > 0 && TokenSecret.Trim().Length < MinimumSecretLength)
            yield return $"Security:TokenSecret must be at least {MinimumSecretLength} characters (or empty, to generate one into the data folder)";
    }
}
