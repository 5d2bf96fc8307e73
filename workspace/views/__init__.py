"""The staff's pages. Views translate HTTP; the rules live in the domain's services and selectors."""
